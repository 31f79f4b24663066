-- Every print of the current version of each delivered ledger file. The ledger reprints a
-- record in full whenever it changes; int_national_pension__latest_prints keeps the latest.
with source as (

    select * from {{ source('national_pension', 'premium_ledger') }}

)

select
    person_key,
    premium_fiscal_year,
    prefecture_code,
    processing_month,
    {%- for name, month in premium_months() %}
    status_{{ name }},
    paid_on_{{ name }},
    channel_{{ name }},
    {%- endfor %}
    _load_id,
    _source_file,
    _line_number,
    _file_period

from source
