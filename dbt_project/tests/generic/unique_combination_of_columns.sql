{% test unique_combination_of_columns(model, combination_of_columns) %}
{#- The grain test: no two rows share the same values of these columns. -#}
select {{ combination_of_columns | join(', ') }}, count(*) as n_rows
from {{ model }}
group by all
having count(*) > 1
{% endtest %}
