{% test expression_is_true(model, expression) %}
{#- Every row must satisfy the SQL expression; failing rows are returned. -#}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}
