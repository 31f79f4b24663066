-- The current state of each person's premium year: the latest print wins (latest processing
-- month, then the latest load and line, should a month be delivered twice).
--
-- Incremental: a night re-decides only the person-years it touched, those printed in a load
-- that arrived since the last run and those whose latest print came from a load that has
-- since been superseded (a re-delivered file). Rows left pointing at a superseded load (a
-- record the re-delivery no longer prints) are dropped downstream, which keeps current loads only.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['person_key', 'premium_fiscal_year'],
) }}

with prints as (

    select * from {{ ref('stg_national_pension__premium_ledger') }}

),

{% if is_incremental() %}
current_loads as (

    select distinct _load_id from prints

),

touched as (

    select person_key, premium_fiscal_year
    from prints
    where _load_id > (select coalesce(max(_load_id), 0) from {{ this }})

    union

    select person_key, premium_fiscal_year
    from {{ this }}
    anti join current_loads using (_load_id)

),

candidates as (

    select * from prints
    semi join touched using (person_key, premium_fiscal_year)

),
{% else %}
candidates as (

    select * from prints

),
{% endif %}

latest as (

    select *
    from candidates
    qualify row_number() over (
        partition by person_key, premium_fiscal_year
        order by processing_month desc, _load_id desc, _line_number desc
    ) = 1

)

select * from latest
