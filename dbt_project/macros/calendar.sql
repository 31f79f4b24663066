{#
  The calendar every KPI shares. Fiscal years start in April: FY2020 is April 2020 to
  March 2021, so January to March belong to the previous year's FY.
#}
{% macro fiscal_year(date) -%}
    (year({{ date }}) - case when month({{ date }}) < 4 then 1 else 0 end)
{%- endmacro %}

{#- The half of the fiscal year a date falls in: H1 April to September, H2 October to March. -#}
{% macro fiscal_half(date) -%}
    case when month({{ date }}) between 4 and 9 then 'H1' else 'H2' end
{%- endmacro %}

{#
  One row (`as_of`, a month end) per calendar month from the earliest to the latest value of
  `month_column` in `relation`: the months the extracts cover, gaps included.
#}
{% macro month_end_spine(relation, month_column) -%}
    {{ return(adapter.dispatch('month_end_spine', 'pension_warehouse')(relation, month_column)) }}
{%- endmacro %}

{% macro default__month_end_spine(relation, month_column) -%}
    select last_day(cast(months.month_start as date)) as as_of
    from (
        select unnest(generate_series(min({{ month_column }}), max({{ month_column }}), interval 1 month)) as month_start
        from {{ relation }}
    ) as months
{%- endmacro %}

{% macro spark__month_end_spine(relation, month_column) -%}
    select last_day(months.month_start) as as_of
    from (
        select explode(sequence(min({{ month_column }}), max({{ month_column }}), interval 1 month)) as month_start
        from {{ relation }}
    ) as months
{%- endmacro %}

{% macro fiscal_year_start(fiscal_year) -%}
    make_date({{ fiscal_year }}, 4, 1)
{%- endmacro %}
