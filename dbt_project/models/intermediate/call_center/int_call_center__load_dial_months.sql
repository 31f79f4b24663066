-- Call counts per load (one delivered version of one file), JST month and dial. A load never
-- changes once committed, so each night aggregates only the loads that arrived since the
-- last run: work in proportion to what is new. Superseded loads stay here and are left out
-- by int_call_center__dial_months.
{{ config(materialized='incremental', incremental_strategy='append') }}

with calls as (

    select * from {{ ref('stg_call_center__calls') }}
    {% if is_incremental() %}
    where _load_id > (select coalesce(max(loaded._load_id), 0) from {{ this }} as loaded)
    {% endif %}

),

load_dial_months as (

    select
        _load_id,
        cast(date_trunc('month', received_date_jst) as date) as month,
        dial_code,
        count(*) as calls_offered,
        count(*) filter (where is_answered) as calls_answered,
        count(*) filter (where disconnect_reason = 'caller_abandoned') as calls_abandoned,
        sum(wait_seconds) filter (where is_answered) as wait_seconds_answered,
        sum(talk_seconds) as talk_seconds

    from calls
    group by all

)

select * from load_dial_months
