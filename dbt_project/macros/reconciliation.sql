{#
  Shared reconciliation logic: every KPI's reconciliation model lists each published figure
  with its recomputed value, the difference, the tolerance and a status:
    match              |difference| <= tolerance
    known_discrepancy  the seed documents why the report disagrees with itself (warning)
    mismatch           anything else, including a figure that could not be recomputed (error)
  Rates compare at the published precision (half a unit in the last published digit);
  counts compare exactly at scale 1.0 and within scaling rounding otherwise.
#}
{% macro rate_tolerance(decimals) -%}
    (0.5 * power(10, -{{ decimals }}) + 1e-9)
{%- endmacro %}

{% macro reconciliation_status(recomputed, published, tolerance, known_discrepancy) -%}
    case
        when {{ recomputed }} is null then 'mismatch'
        when nullif({{ known_discrepancy }}, '') is not null then 'known_discrepancy'
        when abs({{ recomputed }} - {{ published }}) <= {{ tolerance }} then 'match'
        else 'mismatch'
    end
{%- endmacro %}
