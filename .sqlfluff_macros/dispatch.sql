{#
  sqlfluff lints the models with Jinja alone (no database, no dbt parse), where dbt's `adapter`
  does not exist: here each dispatching macro of dbt_project/macros resolves to its default__
  implementation, DuckDB's, as dbt-duckdb's dispatch does. Loaded after dbt_project/macros, so
  these names win (.sqlfluff); dbt never reads this folder.
#}
{% macro inlined() %}{{ return(default__inlined()) }}{% endmacro %}
{% macro japan_time(timestamp) %}{{ return(default__japan_time(timestamp)) }}{% endmacro %}
{% macro add_months(date, months) %}{{ return(default__add_months(date, months)) }}{% endmacro %}
{% macro latest_prints_strategy() %}{{ return(default__latest_prints_strategy()) }}{% endmacro %}
{% macro round_to(value, decimals) %}{{ return(default__round_to(value, decimals)) }}{% endmacro %}
{% macro month_end_spine(relation, month_column) %}{{ return(default__month_end_spine(relation, month_column)) }}{% endmacro %}
{% macro latest_prints(prints, keys, order_by) %}{{ return(default__latest_prints(prints, keys, order_by)) }}{% endmacro %}
{% macro delete_withdrawn_prints(prints) %}{{ return(default__delete_withdrawn_prints(prints)) }}{% endmacro %}
