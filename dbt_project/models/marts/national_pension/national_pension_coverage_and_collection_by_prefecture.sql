-- The table 国民年金適用・収納対策業務の状況 by prefecture: one row per prefecture and date, each
-- 31 March (the fiscal year's end) and 30 September the ledger covers. The rates and changes
-- are declared once, in the macro coverage_and_collection; the nationwide table sums these counts.
with insured_persons as (

    select * from {{ ref('national_pension_insured_persons') }}

),

payment_rate as (

    select * from {{ ref('national_pension_payment_rate') }}

),

obligation_months as (

    select * from {{ ref('int_national_pension__obligation_months') }}

),

prefectures as (

    select * from {{ ref('prefectures') }}

),

dates as (

    select
        as_of,
        fiscal_year,
        prefecture_code,
        case when month(as_of) = 3 then 'fiscal_year_end' else 'september_end' end as period,
        -- the current-year rate of a fiscal year is read at its close, 30 April after it
        case when month(as_of) = 3 then last_day({{ add_months('as_of', 1) }}) else as_of end as current_year_as_of,
        insured_persons,
        voluntary_persons,
        full_exemption_persons
    from insured_persons
    where month(as_of) in (3, 9)

),

falling_due as (

    -- the premiums falling due at the date (the month before: due at the end of the next
    -- month), and those of them paid by direct debit or credit card: the 実施率 of the date
    select
        dates.as_of,
        dates.prefecture_code,
        premiums.due_persons,
        premiums.direct_debit_persons,
        premiums.credit_card_persons
    from dates
    inner join insured_persons as premiums
        on premiums.as_of = last_day({{ add_months('dates.as_of', -1) }})
        and premiums.prefecture_code = dates.prefecture_code

),

multi_payments as (

    -- payments through the multi-payment network from 1 April to the date, of any premium year
    select
        dates.as_of,
        dates.prefecture_code,
        sum(obligation_months.obligation_months) as multi_payments
    from dates
    inner join obligation_months
        on obligation_months.prefecture_code = dates.prefecture_code
        and obligation_months.is_multi_payment
        and obligation_months.paid_month between make_date(dates.fiscal_year, 4, 1) and dates.as_of
    group by dates.as_of, dates.prefecture_code

),

closes as (

    -- each premium year at its current-year close
    select
        premium_fiscal_year,
        prefecture_code,
        months_paid,
        months_due
    from payment_rate
    where as_of = last_day(make_date(premium_fiscal_year + 1, 4, 1))

),

counts as (

    select
        dates.as_of,
        dates.fiscal_year,
        dates.period,
        dates.prefecture_code,
        dates.insured_persons,
        dates.voluntary_persons,
        dates.full_exemption_persons,
        falling_due.due_persons,
        falling_due.direct_debit_persons,
        falling_due.credit_card_persons,
        coalesce(multi_payments.multi_payments, 0) as multi_payments,
        current_year.months_paid,
        current_year.months_due,
        past_year.months_paid as past_year_months_paid,
        past_year.months_due as past_year_months_due,
        past_year_close.months_paid as past_year_close_months_paid,
        past_year_close.months_due as past_year_close_months_due,
        final.months_paid as final_months_paid,
        final.months_due as final_months_due,
        final_close.months_paid as final_close_months_paid,
        final_close.months_due as final_close_months_due

    from dates
    left join falling_due
        on falling_due.as_of = dates.as_of
        and falling_due.prefecture_code = dates.prefecture_code
    left join multi_payments
        on multi_payments.as_of = dates.as_of
        and multi_payments.prefecture_code = dates.prefecture_code
    left join payment_rate as current_year
        on current_year.premium_fiscal_year = dates.fiscal_year
        and current_year.as_of = dates.current_year_as_of
        and current_year.prefecture_code = dates.prefecture_code
    left join payment_rate as past_year
        on past_year.premium_fiscal_year = dates.fiscal_year - 1
        and past_year.as_of = dates.as_of
        and past_year.prefecture_code = dates.prefecture_code
    left join closes as past_year_close
        on past_year_close.premium_fiscal_year = dates.fiscal_year - 1
        and past_year_close.prefecture_code = dates.prefecture_code
    left join payment_rate as final
        on final.premium_fiscal_year = dates.fiscal_year - 2
        and final.as_of = dates.as_of
        and final.prefecture_code = dates.prefecture_code
    left join closes as final_close
        on final_close.premium_fiscal_year = dates.fiscal_year - 2
        and final_close.prefecture_code = dates.prefecture_code

),

table_rows as (

    {{ coverage_and_collection('counts', partition=['prefecture_code']) }}

)

select
    table_rows.*,
    prefectures.prefecture_name_ja
from table_rows
inner join prefectures on table_rows.prefecture_code = prefectures.prefecture_code
