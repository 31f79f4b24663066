"""The questions analysts ask of the published marts, as SQL the notebooks and the dashboard share.

Rates over several months, dials or prefectures are ratios of sums, never means of rates, and
are computed as DOUBLE: DuckDB's ``sum()`` of integers is a HUGEINT, which polars reads as a
``decimal(38,0)`` and divides into a whole number (a 100% answer rate, once).
"""

# Answer rate by fiscal year and calendar month, April first; ``?``: a dial code, or NULL for all dials.
CALL_CENTER_MONTHLY = """
with months as (
    select fiscal_year, month(month) as calendar_month,
           sum(calls_offered) as calls_offered, sum(calls_answered) as calls_answered,
           sum(calls_answered)::double / sum(calls_offered) as answer_rate
    from marts.call_center_monthly
    where dial_code = coalesce(?, dial_code)
    group by all
)
select * from months order by fiscal_year, (calendar_month + 8) % 12
"""

# The report's periods, by fiscal year; ``?``: a dial code, or NULL for all dials.
CALL_CENTER_PERIODS = """
with periods(period, first_month, last_month) as (
    values ('4～7月', 4, 7), ('8～10月', 8, 10), ('4～10月', 4, 10)
)
select period, fiscal_year, sum(calls_answered)::double / sum(calls_offered) as answer_rate
from marts.call_center_monthly
join periods on month(month) between first_month and last_month
where dial_code = coalesce(?, dial_code)
group by period, first_month, last_month, fiscal_year
order by (first_month, last_month) = (4, 10), first_month, fiscal_year  -- 4～7月, 8～10月, then 4～10月
"""

# April-October by dial and fiscal year.
CALL_CENTER_BY_DIAL = """
select dial_code, dial_name_ja, fiscal_year, sum(calls_answered)::double / sum(calls_offered) as answer_rate
from marts.call_center_monthly
where month(month) between 4 and 10
group by all order by dial_code, fiscal_year
"""

# The cumulative current-year curve, month end by month end from May to April; ``?``: a prefecture code, or NULL.
NP_CURVE = """
select premium_fiscal_year, as_of,
       datediff('month', make_date(premium_fiscal_year, 5, 31), as_of) as months_after_may,
       sum(months_paid)::double / sum(months_due) as payment_rate
from marts.national_pension_payment_rate
where premium_fiscal_year in (2019, 2020) and as_of <= make_date(premium_fiscal_year + 1, 4, 30)
  and prefecture_code = coalesce(?, prefecture_code)
group by all order by premium_fiscal_year, as_of
"""

# Current-year (30 April after the fiscal year), past-year (31 March a year after it, 過年度１年目)
# and final (31 March two years after it, 最終納付率) rates of each premium year, nationwide. A rate
# whose date lies beyond the data is given at the data's last month end, marked interim, as the
# report does ("令和２年９月末 最終納付率（平成30年度分）"); a kind whose time has not begun is left out.
NP_RATES_BY_KIND = """
with kinds(kind, years_after, month, day, begins_years_after, begins_month, begins_day) as (
    values ('現年度納付率', 1, 4, 30, 0, 4, 1),
           ('過年度１年目納付率', 2, 3, 31, 1, 4, 30),
           ('最終納付率', 3, 3, 31, 2, 3, 31)
),
data_end as (select max(as_of) as last_as_of from marts.national_pension_payment_rate),
wanted as (
    select years.premium_fiscal_year, kinds.kind, kinds.years_after,
           make_date(years.premium_fiscal_year + kinds.years_after, kinds.month, kinds.day) as kind_date,
           data_end.last_as_of
    from (select distinct premium_fiscal_year from marts.national_pension_payment_rate) as years
    cross join kinds
    cross join data_end
    where make_date(years.premium_fiscal_year + kinds.begins_years_after, kinds.begins_month, kinds.begins_day)
          < data_end.last_as_of
)
select wanted.premium_fiscal_year, wanted.years_after, wanted.kind, least(wanted.kind_date, wanted.last_as_of) as as_of,
       wanted.kind_date > wanted.last_as_of as is_interim,
       sum(rates.months_paid)::double / sum(rates.months_due) as payment_rate
from wanted
join marts.national_pension_payment_rate as rates
  on rates.premium_fiscal_year = wanted.premium_fiscal_year
 and rates.as_of = least(wanted.kind_date, wanted.last_as_of)
group by all
order by wanted.premium_fiscal_year, wanted.years_after
"""

# Prefectures by their FY2019 current-year rate, with FY2020 at September against FY2019 at September.
NP_PREFECTURE_RANKING = """
with rates as (
    select prefecture_code, prefecture_name_ja,
           max(payment_rate) filter (where premium_fiscal_year = 2019 and as_of = date '2020-04-30') as fy2019_current_year,
           max(payment_rate) filter (where premium_fiscal_year = 2020 and as_of = date '2020-09-30') as fy2020_at_september,
           max(payment_rate) filter (where premium_fiscal_year = 2019 and as_of = date '2019-09-30') as fy2019_at_september
    from marts.national_pension_payment_rate
    group by all
)
select rank() over (order by fy2019_current_year desc) as rank, prefecture_code, prefecture_name_ja,
       fy2019_current_year, fy2020_at_september, fy2019_at_september,
       100 * (fy2020_at_september - fy2019_at_september) as change_points
from rates order by rank, prefecture_code
"""

# Collection actions by fiscal half-year, latest first, against the same half a year before;
# ``?``: a prefecture code, or NULL for the nationwide sums (then divided: never averaged).
NP_COLLECTION_ACTIONS = """
select fiscal_year, fiscal_half, action_code, action_name_ja,
       sum(actions) as actions, sum(actions_previous_year) as actions_previous_year,
       sum(actions)::double / nullif(sum(actions_previous_year), 0) as ratio_to_previous_year
from marts.national_pension_collection_actions
where prefecture_code = coalesce(?, prefecture_code)
group by all order by fiscal_year desc, fiscal_half desc, action_code
"""

# The collection contractor's half-years against plan, latest first.
NP_CONTRACTOR_ACTIVITY = """
select fiscal_year, fiscal_half, activity_code, activity_name_ja, planned, performed,
       performed::double / nullif(planned, 0) as performance_rate, annual_plan
from marts.national_pension_contractor_activity
order by fiscal_year desc, fiscal_half desc, activity_code
"""

# Fiscal year to date, month end by month end, by insurance type (amounts in 億円).
EMPLOYER_COLLECTION = """
select fiscal_year, as_of, (month(as_of) + 8) % 12 as fiscal_month_index, insurance_name_ja,
       arrears_yen / 1e8 as arrears_oku, deferred_yen / 1e8 as deferred_oku,
       collection_rate, collection_rate_excl_deferral
from marts.employer_collection order by insurance_name_ja, fiscal_year, as_of
"""

DELINQUENT_ESTABLISHMENTS = """
select as_of, covered_establishments, delinquent_establishments, delinquent_share
from marts.employer_delinquent_establishments order by as_of
"""

# The table 国民年金適用・収納対策業務の状況 as the report prints it: each fiscal year end whose final
# rate the ledger reaches (FY2012 onward), then the two latest 30 Septembers; ``?`` twice: a
# prefecture code, or NULL for the nationwide table.
NP_COVERAGE_AND_COLLECTION = """
with rows as (
    select * exclude (prefecture_code, prefecture_name_ja)
    from marts.national_pension_coverage_and_collection_by_prefecture where prefecture_code = ?
    union all by name
    select * from marts.national_pension_coverage_and_collection where ? is null
)
select * from rows
where final_rate_percent is not null
  and (period = 'fiscal_year_end'
       or as_of >= (select max(as_of) - interval 13 month from rows where period = 'september_end'))
order by period, as_of
"""
