-- Calls offered and answered per JST calendar month and dial: the additive counts every
-- answer-rate figure is built from (rates are ratios of sums, never means of rates).
with calls as (

    select * from {{ ref('stg_call_center__calls') }}

),

dial_months as (

    select
        date_trunc('month', received_date_jst)::date as month,
        dial_code,
        count(*) as calls_offered,
        count(*) filter (where is_answered) as calls_answered,
        count(*) filter (where disconnect_reason = 'caller_abandoned') as calls_abandoned,
        sum(wait_seconds) filter (where is_answered) as wait_seconds_answered,
        sum(talk_seconds) as talk_seconds

    from calls
    group by all

)

select * from dial_months
