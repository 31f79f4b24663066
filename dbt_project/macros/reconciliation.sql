{#
  Shared reconciliation logic: every KPI's reconciliation model lists each published figure
  with its recomputed value, the difference, the tolerance and a status:
    match              |difference| <= tolerance
    known_discrepancy  the seed documents why the report disagrees with itself (warning)
    mismatch           anything else, including a figure that could not be recomputed (error)
  Rates compare at the published precision (half a unit in the last published digit);
  counts compare exactly at scale 1.0 and within scaling rounding otherwise.
#}
{#- The figure as published, the value it should have at the extracts' scale (counts scale with
    the extracts: `scale_applied` is the scale for them, 1.0 for rates), the recomputed value and
    the difference: the columns every reconciliation model shows in this order. -#}
{% macro compared_to_published() -%}
    published_value,
    published_value * scale_applied as expected_value,
    recomputed_value,
    recomputed_value - published_value * scale_applied as difference
{%- endmacro %}

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

{#- How far a recomputed figure may be from the expected one: rates at their published precision,
    counts exactly at scale 1.0 and within `scaled_count_tolerance` below it; `unit_tolerances`
    adds a KPI's own units. Over the columns `unit`, `decimals` and `scale_applied`. -#}
{% macro figure_tolerance(scaled_count_tolerance='0.5', unit_tolerances={}) -%}
    case
        when unit = 'percent' then {{ rate_tolerance('decimals') }}
        {%- for unit, tolerance in unit_tolerances.items() %}
        when unit = '{{ unit }}' then {{ tolerance }}
        {%- endfor %}
        when scale_applied = 1.0 then 0
        else {{ scaled_count_tolerance }}
    end
{%- endmacro %}

{#- The reconciliation model's rows: every figure of `figures` (a CTE with the columns of
    compared_to_published(), `tolerance` and `known_discrepancy`) with its status. -#}
{% macro reconciled(figures) -%}
select
    *,
    {{ reconciliation_status('recomputed_value', 'expected_value', 'tolerance', 'known_discrepancy') }} as status
from {{ figures }}
{%- endmacro %}


{#
  The scale a figure's expected value is multiplied by: the demo's scale for the figures in
  `scaled_units` (counts and amounts, which the extracts carry at that scale), 1 for rates.
  A double on every engine (a bare 0.01 would be a decimal on Spark).
#}
{% macro scale_applied(scaled_units) -%}
    case
        when figures.unit in ('{{ scaled_units | join("', '") }}') then cast({{ var('scale') }} as double)
        else cast(1 as double)
    end
{%- endmacro %}


{#- A ratio (or a change) of two scaled counts, in percent, each count rounded once: below scale 1
    it may move by what half a unit of either count moves it (0.41 seizures at 1/100 print as 0
    of 85, 0.0% for 0.5%); never at scale 1, nor for a figure that is not such a ratio (null
    counts). Over the columns `unit` and those two counts. -#}
{% macro scaled_ratio_tolerance(numerator, denominator) -%}
    coalesce(
        case
            when unit <> 'percent' or cast({{ var('scale') }} as double) = 1 then cast(0 as double)
            else 50 * (1 + {{ numerator }} / nullif({{ denominator }}, 0)) / nullif({{ denominator }}, 0)
        end,
        0
    )
{%- endmacro %}
