{#
  The premium ledger's twelve-month repeating group, in fiscal order: (column suffix,
  calendar month). Must match ingest.specs.PREMIUM_MONTHS, which names the raw columns.
#}
{% macro premium_months() -%}
    {{ return([('apr', 4), ('may', 5), ('jun', 6), ('jul', 7), ('aug', 8), ('sep', 9),
               ('oct', 10), ('nov', 11), ('dec', 12), ('jan', 1), ('feb', 2), ('mar', 3)]) }}
{%- endmacro %}
