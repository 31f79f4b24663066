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
        load_dial_months.month,
        load_dial_months.dial_code,
        cast(sum(load_dial_months.calls_offered) as bigint) as calls_offered,
        cast(sum(load_dial_months.calls_answered) as bigint) as calls_answered,
        cast(sum(load_dial_months.calls_abandoned) as bigint) as calls_abandoned,
        cast(sum(load_dial_months.wait_seconds_answered) as bigint) as wait_seconds_answered,
        cast(sum(load_dial_months.talk_seconds) as bigint) as talk_seconds

    from load_dial_months
    semi join current_loads on load_dial_months._load_id = current_loads._load_id
    group by all

)

select * from dial_months
