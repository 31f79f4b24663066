-- The current state of each person's premium year: the ledger reprints a record in full
-- whenever it changes, so the latest processing month wins (then the latest load and line,
-- should a month be delivered twice).
with source as (

    select * from {{ source('national_pension', 'premium_ledger') }}

),

latest as (

    select *
    from source
    qualify row_number() over (
        partition by person_key, premium_fiscal_year
        order by processing_month desc, _load_id desc, _line_number desc
    ) = 1

)

select
    person_key,
    premium_fiscal_year,
    prefecture_code,
    processing_month,
    {%- for name, month in premium_months() %}
    status_{{ name }},
    paid_on_{{ name }},
    {%- endfor %}
    _load_id,
    _source_file,
    _line_number

from latest
