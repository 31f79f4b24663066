{#
  The table 国民年金適用・収納対策業務の状況, its rates and changes from its counts: declared once
  for the nationwide mart and the one by prefecture (each sums its own counts first, since a
  rate of a sum is never a sum of rates). `counts` is a CTE with one row per date (31 March or
  30 September) and `partition` (the columns beside the date, e.g. prefecture_code), holding:
  insured_persons, voluntary_persons, full_exemption_persons, due_persons, direct_debit_persons,
  credit_card_persons, multi_payments (since 1 April), months_paid and months_due of the
  current premium year, past_year_* and final_* (the premium year before and the one before
  that, at the date), and past_year_close_* and final_close_* (those premium years at their
  current-year close, 30 April after them). A change compares with the same date a year before.
#}
{% macro coverage_and_collection(counts, partition=[]) -%}
with rated as (

    select
        {{ counts }}.*,
        cast(100 as double) * full_exemption_persons
        / nullif(insured_persons - voluntary_persons, 0) as full_exemption_rate_percent,
        cast(100 as double) * months_paid / nullif(months_due, 0) as current_year_rate_percent,
        cast(100 as double) * direct_debit_persons / nullif(due_persons, 0) as direct_debit_rate_percent,
        cast(100 as double) * credit_card_persons / nullif(due_persons, 0) as credit_card_rate_percent,
        cast(100 as double) * past_year_months_paid / nullif(past_year_months_due, 0) as past_year_rate_percent,
        cast(100 as double) * past_year_close_months_paid
        / nullif(past_year_close_months_due, 0) as past_year_close_rate_percent,
        cast(100 as double) * final_months_paid / nullif(final_months_due, 0) as final_rate_percent,
        cast(100 as double) * final_close_months_paid / nullif(final_close_months_due, 0) as final_close_rate_percent
    from {{ counts }}

)

select
    this_year.as_of,
    this_year.fiscal_year,
    this_year.period,
    {%- for column in partition %}
    this_year.{{ column }},
    {%- endfor %}
    cast(this_year.insured_persons as bigint) as insured_persons,
    100 * (cast(this_year.insured_persons as double) / nullif(a_year_before.insured_persons, 0) - 1)
        as insured_persons_change_percent,
    cast(this_year.voluntary_persons as bigint) as voluntary_persons,
    cast(this_year.months_paid as bigint) as months_paid,
    100 * (cast(this_year.months_paid as double) / nullif(a_year_before.months_paid, 0) - 1)
        as months_paid_change_percent,
    cast(this_year.months_due as bigint) as months_due,
    cast(this_year.full_exemption_persons as bigint) as full_exemption_persons,
    100 * (cast(this_year.full_exemption_persons as double) / nullif(a_year_before.full_exemption_persons, 0) - 1)
        as full_exemption_persons_change_percent,
    this_year.full_exemption_rate_percent,
    this_year.full_exemption_rate_percent - a_year_before.full_exemption_rate_percent
        as full_exemption_rate_change_points,
    this_year.fiscal_year - 2 as final_rate_premium_fiscal_year,
    this_year.final_rate_percent,
    this_year.final_rate_percent - this_year.final_close_rate_percent as final_rate_gain_points,
    this_year.fiscal_year - 1 as past_year_rate_premium_fiscal_year,
    this_year.past_year_rate_percent,
    this_year.past_year_rate_percent - this_year.past_year_close_rate_percent as past_year_rate_gain_points,
    this_year.current_year_rate_percent,
    this_year.current_year_rate_percent - a_year_before.current_year_rate_percent
        as current_year_rate_change_points,
    this_year.direct_debit_rate_percent,
    this_year.direct_debit_rate_percent - a_year_before.direct_debit_rate_percent
        as direct_debit_rate_change_points,
    this_year.credit_card_rate_percent,
    this_year.credit_card_rate_percent - a_year_before.credit_card_rate_percent
        as credit_card_rate_change_points,
    cast(this_year.multi_payments as bigint) as multi_payments,
    100 * (cast(this_year.multi_payments as double) / nullif(a_year_before.multi_payments, 0) - 1)
        as multi_payments_change_percent,
    cast(this_year.due_persons as bigint) as due_persons,
    cast(this_year.direct_debit_persons as bigint) as direct_debit_persons,
    cast(this_year.credit_card_persons as bigint) as credit_card_persons,
    -- what the rates are of, so that they can be summed over prefectures
    cast(this_year.past_year_months_paid as bigint) as past_year_months_paid,
    cast(this_year.past_year_months_due as bigint) as past_year_months_due,
    cast(this_year.past_year_close_months_paid as bigint) as past_year_close_months_paid,
    cast(this_year.past_year_close_months_due as bigint) as past_year_close_months_due,
    cast(this_year.final_months_paid as bigint) as final_months_paid,
    cast(this_year.final_months_due as bigint) as final_months_due,
    cast(this_year.final_close_months_paid as bigint) as final_close_months_paid,
    cast(this_year.final_close_months_due as bigint) as final_close_months_due

from rated as this_year
left join rated as a_year_before
    on a_year_before.as_of = {{ add_months('this_year.as_of', -12) }}
    {%- for column in partition %}
    and a_year_before.{{ column }} = this_year.{{ column }}
    {%- endfor %}
{%- endmacro %}
