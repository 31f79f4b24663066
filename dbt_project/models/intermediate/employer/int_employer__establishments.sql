-- The latest register entry of each covered establishment: the register of the latest month
-- wins, whatever order registers arrived in (a late, older register does not override a newer
-- one). Incremental: see the latest_prints macro (a new register touches every establishment it lists).
{{ config(
    materialized='incremental',
    incremental_strategy=latest_prints_strategy(),
    unique_key=['establishment_number'],
    post_hook="{{ delete_withdrawn_prints(ref('stg_employer__establishments')) }}",
) }}

{{ latest_prints(
    ref('stg_employer__establishments'),
    keys=['establishment_number'],
    order_by='_file_period desc, _load_id desc, _line_number desc',
) }}
