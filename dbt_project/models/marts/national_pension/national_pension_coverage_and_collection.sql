-- The table 国民年金適用・収納対策業務の状況 as the report prints it: one row per date, each
-- 31 March (the fiscal year's end) and 30 September the ledger covers, nationwide. Counts are
-- the prefectures' summed, then divided (macro coverage_and_collection).
with by_prefecture as (

    select * from {{ ref('national_pension_coverage_and_collection_by_prefecture') }}

),

counts as (

    select
        as_of,
        fiscal_year,
        period,
        sum(insured_persons) as insured_persons,
        sum(voluntary_persons) as voluntary_persons,
        sum(full_exemption_persons) as full_exemption_persons,
        sum(due_persons) as due_persons,
        sum(direct_debit_persons) as direct_debit_persons,
        sum(credit_card_persons) as credit_card_persons,
        sum(multi_payments) as multi_payments,
        sum(months_paid) as months_paid,
        sum(months_due) as months_due,
        sum(past_year_months_paid) as past_year_months_paid,
        sum(past_year_months_due) as past_year_months_due,
        sum(past_year_close_months_paid) as past_year_close_months_paid,
        sum(past_year_close_months_due) as past_year_close_months_due,
        sum(final_months_paid) as final_months_paid,
        sum(final_months_due) as final_months_due,
        sum(final_close_months_paid) as final_close_months_paid,
        sum(final_close_months_due) as final_close_months_due
    from by_prefecture
    group by as_of, fiscal_year, period

),

table_rows as (

    {{ coverage_and_collection('counts') }}

)

select * from table_rows
