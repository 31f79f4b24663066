-- The current state of each person's premium year: the latest print wins (the latest processing
-- month, as its file's name gives it and every row of the file says, then the latest load and
-- line, should a month be delivered twice). Incremental: see the latest_prints macro.
{#- partition_by: Spark's unit of replacement (spark__latest_prints); DuckDB replaces by unique_key -#}
{{ config(
    materialized='incremental',
    incremental_strategy=latest_prints_strategy(),
    unique_key=['person_key', 'premium_fiscal_year'],
    partition_by=['premium_fiscal_year'],
    post_hook="{{ delete_withdrawn_prints(ref('stg_national_pension__premium_ledger')) }}",
) }}

{{ latest_prints(
    ref('stg_national_pension__premium_ledger'),
    keys=['person_key', 'premium_fiscal_year'],
    order_by='_file_period desc, _load_id desc, _line_number desc',
) }}
