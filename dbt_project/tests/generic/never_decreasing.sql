{% test never_decreasing(model, column_name, partition_by, order_by) %}
{#- Within each partition, the column never decreases as order_by advances. -#}
with ordered as (
    select {{ column_name }} as value,
        lag({{ column_name }}) over (partition by {{ partition_by | join(', ') }} order by {{ order_by }}) as previous_value
    from {{ model }}
)
select * from ordered where value < previous_value
{% endtest %}
