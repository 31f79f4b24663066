{#
  Where DuckDB's and Spark SQL's dialects differ, and nothing in dbt's cross-database macros
  covers it: one macro each, dispatched on the adapter (`default__` is DuckDB's, `spark__`
  Spark's), so that every model is one file for both engines.
#}

{# A CTE to be inlined wherever it is read. DuckDB would otherwise materialise a CTE read more
   than once; Spark always inlines, and has no such keyword. #}
{% macro inlined() -%}
    {{ return(adapter.dispatch('inlined', 'pension_warehouse')()) }}
{%- endmacro %}

{% macro default__inlined() -%}not materialized{%- endmacro %}

{% macro spark__inlined() -%}{%- endmacro %}


{# A timestamptz as the wall-clock time in Japan (a naive timestamp). Spark's session time
   zone is UTC (the profile sets it), so from_utc_timestamp gives Japan's wall clock. #}
{% macro japan_time(timestamp) -%}
    {{ return(adapter.dispatch('japan_time', 'pension_warehouse')(timestamp)) }}
{%- endmacro %}

{% macro default__japan_time(timestamp) -%}timezone('Asia/Tokyo', {{ timestamp }}){%- endmacro %}

{% macro spark__japan_time(timestamp) -%}from_utc_timestamp({{ timestamp }}, 'Asia/Tokyo'){%- endmacro %}


{# `date` plus `months` months, as a date. #}
{% macro add_months(date, months) -%}
    {{ return(adapter.dispatch('add_months', 'pension_warehouse')(date, months)) }}
{%- endmacro %}

{% macro default__add_months(date, months) -%}cast({{ date }} + to_months({{ months }}) as date){%- endmacro %}

{% macro spark__add_months(date, months) -%}add_months({{ date }}, {{ months }}){%- endmacro %}


{# How an incremental model of latest prints replaces what changed: by key on DuckDB
   (delete+insert), by partition on Spark (insert_overwrite: Parquet tables there can neither
   merge nor delete). See the latest_prints macro. #}
{% macro latest_prints_strategy() -%}
    {{ return(adapter.dispatch('latest_prints_strategy', 'pension_warehouse')()) }}
{%- endmacro %}

{% macro default__latest_prints_strategy() -%}{{ return('delete+insert') }}{%- endmacro %}

{% macro spark__latest_prints_strategy() -%}{{ return('insert_overwrite') }}{%- endmacro %}


{# Seeds on Spark, with every value a literal. dbt-spark's own binds values by text
   substitution in the session method, which loads a blank cell as the string 'None' and
   breaks on an apostrophe ("the report's"); here a blank is null and a string is escaped
   as Spark SQL reads it, on either method. Overrides dbt-spark's macro of the same name. #}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- set column_name = agate_table.column_names[loop.index0] -%}
                    {%- set type = column_override.get(column_name, adapter.convert_type(agate_table, loop.index0)) -%}
                    cast({{ spark_literal(value) }} as {{ type }}){%- if not loop.last %}, {% endif -%}
                {%- endfor -%}){%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first %}{% do statements.append(sql) %}{% endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}

{% macro spark_literal(value) -%}
    {%- if value is none -%}null
    {%- elif value is sameas true or value is sameas false -%}{{ value | string | lower }}
    {%- elif value is number -%}{{ value }}
    {%- else -%}'{{ value | string | replace('\\', '\\\\') | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}


{# `value` rounded to `decimals` places, where `decimals` is a column (a figure's published
   precision). Spark's round takes a constant only, so there each precision is its own branch. #}
{% macro round_to(value, decimals) -%}
    {{ return(adapter.dispatch('round_to', 'pension_warehouse')(value, decimals)) }}
{%- endmacro %}

{% macro default__round_to(value, decimals) -%}round({{ value }}, {{ decimals }}){%- endmacro %}

{% macro spark__round_to(value, decimals) -%}
    case {{ decimals }}{% for places in range(0, 4) %} when {{ places }} then round({{ value }}, {{ places }}){% endfor %} end
{%- endmacro %}
