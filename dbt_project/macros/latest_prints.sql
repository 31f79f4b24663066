{#-
    The latest print of each record. Operational extracts reprint a record in full whenever
    it changes; the latest print (by `order_by`) is its current state.

    For an incremental model (delete+insert on `keys`): a run re-decides only the records it
    touched, those printed in a load that arrived since the last run and those whose latest
    print came from a load that has since been superseded (a re-delivered file). Work is in
    proportion to what is new. Pair it with the post-hook `delete_withdrawn_prints`, which
    drops a record whose every print was withdrawn by a re-delivery.
-#}
{% macro latest_prints(prints, keys, order_by) %}
{%- set key_list = keys | join(', ') -%}
with prints as (

    select * from {{ prints }}

),

{% if is_incremental() %}
current_loads as (

    select distinct _load_id from prints

),

touched as (

    select {{ key_list }}
    from prints
    where _load_id > (select coalesce(max(_load_id), 0) from {{ this }})

    union

    select {{ key_list }}
    from {{ this }}
    anti join current_loads using (_load_id)

),

candidates as (

    select * from prints
    semi join touched using ({{ key_list }})

),
{% else %}
candidates as (

    select * from prints

),
{% endif %}

latest as (

    select *
    from candidates
    qualify row_number() over (partition by {{ key_list }} order by {{ order_by }}) = 1

)

select * from latest
{% endmacro %}


{% macro delete_withdrawn_prints(prints) %}
delete from {{ this }} where _load_id not in (select distinct _load_id from {{ prints }})
{% endmacro %}
