-- Calls offered and answered per JST calendar month and dial: the additive counts every
-- answer-rate figure is built from (rates are ratios of sums, never means of rates).
-- Summed from the per-load counts of the loads that are current (a re-delivered file's
-- earlier version drops out).
with load_dial_months as (

    select * from {{ ref('int_call_center__load_dial_months') }}

),

current_loads as (

    select distinct _load_id from {{ ref('stg_call_center__calls') }}

),

dial_months as (

    select
        month,
        dial_code,
        sum(calls_offered)::bigint as calls_offered,
        sum(calls_answered)::bigint as calls_answered,
        sum(calls_abandoned)::bigint as calls_abandoned,
        sum(wait_seconds_answered)::hugeint as wait_seconds_answered,
        sum(talk_seconds)::hugeint as talk_seconds

    from load_dial_months
    semi join current_loads using (_load_id)
    group by all

)

select * from dial_months
