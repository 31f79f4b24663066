-- First-category insured persons (第１号被保険者) at each month end, by prefecture and
-- status: each person's premium-year record has one status per month, so counting the
-- month's obligation months counts persons.
with obligation_months as (

    select * from {{ ref('int_national_pension__obligation_months') }}

),

prefectures as (

    select * from {{ ref('prefectures') }}

),

counted as (

    select
        last_day(premium_month) as as_of,
        premium_fiscal_year as fiscal_year,
        prefecture_code,
        sum(obligation_months) as insured_persons,
        sum(obligation_months) filter (where status_category = 'fully_exempt') as fully_exempt_persons,
        sum(obligation_months) filter (where status_category = 'student_deferral') as student_deferral_persons,
        sum(obligation_months) filter (where status_category = 'youth_deferral') as youth_deferral_persons,
        sum(obligation_months) filter (where status_category = 'partially_exempt') as partially_exempt_persons,
        sum(obligation_months) filter (where status_category = 'voluntary') as voluntary_persons,
        sum(obligation_months) filter (where is_due) as due_persons,
        -- the month's due premium paid (eventually) by direct debit or credit card
        sum(obligation_months) filter (where channel_category = 'direct_debit') as direct_debit_persons,
        sum(obligation_months) filter (where channel_category = 'credit_card') as credit_card_persons

    from obligation_months
    group by all

)

select
    counted.as_of,
    counted.fiscal_year,
    counted.prefecture_code,
    prefectures.prefecture_name_ja,
    cast(counted.insured_persons as bigint) as insured_persons,
    cast(coalesce(counted.fully_exempt_persons, 0) as bigint) as fully_exempt_persons,
    cast(coalesce(counted.student_deferral_persons, 0) as bigint) as student_deferral_persons,
    cast(coalesce(counted.youth_deferral_persons, 0) as bigint) as youth_deferral_persons,
    cast(coalesce(counted.partially_exempt_persons, 0) as bigint) as partially_exempt_persons,
    cast(coalesce(counted.voluntary_persons, 0) as bigint) as voluntary_persons,
    cast(coalesce(counted.due_persons, 0) as bigint) as due_persons,
    cast(coalesce(counted.direct_debit_persons, 0) as bigint) as direct_debit_persons,
    cast(coalesce(counted.credit_card_persons, 0) as bigint) as credit_card_persons,
    -- the report's 全額免除者数: everyone whose month is wholly exempt, deferrals included
    cast(
        coalesce(counted.fully_exempt_persons, 0)
        + coalesce(counted.student_deferral_persons, 0)
        + coalesce(counted.youth_deferral_persons, 0) as bigint
    ) as full_exemption_persons

from counted
inner join prefectures on counted.prefecture_code = prefectures.prefecture_code
