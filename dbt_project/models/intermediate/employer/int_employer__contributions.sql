-- The current state of each contribution record (establishment, insurance type, premium
-- month): the print of the latest processing month wins (then the latest load and line).
-- Incremental: see the latest_prints macro.
{#- partition_by: Spark's unit of replacement (spark__latest_prints); DuckDB replaces by unique_key -#}
{{ config(
    materialized='incremental',
    incremental_strategy=latest_prints_strategy(),
    unique_key=['establishment_number', 'insurance_name_ja', 'premium_month'],
    partition_by=['premium_month'],
    post_hook="{{ delete_withdrawn_prints(ref('stg_employer__contributions')) }}",
) }}

{{ latest_prints(
    ref('stg_employer__contributions'),
    keys=['establishment_number', 'insurance_name_ja', 'premium_month'],
    order_by='_file_period desc, _load_id desc, _line_number desc',
) }}
