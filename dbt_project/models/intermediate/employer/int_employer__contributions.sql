-- The current state of each contribution record (establishment, insurance type, premium
-- month): the latest print wins. Incremental: see the latest_prints macro.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['establishment_number', 'insurance_name_ja', 'premium_month'],
    post_hook="{{ delete_withdrawn_prints(ref('stg_employer__contributions')) }}",
) }}

{{ latest_prints(
    ref('stg_employer__contributions'),
    keys=['establishment_number', 'insurance_name_ja', 'premium_month'],
    order_by='processing_month desc, _load_id desc, _line_number desc',
) }}
