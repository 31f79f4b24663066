-- Covered and delinquent establishments (滞納事業所) at each month end. An establishment is
-- delinquent when an amount past its due date is unpaid and not under an approved special
-- deferral at as_of.
with establishments as (

    select * from {{ ref('int_employer__establishments') }}

),

contributions as {{ inlined() }} (  -- read twice; copying it first costs more than it saves

    select * from {{ ref('int_employer__contributions') }}

),

as_of_spine as (

    {{ month_end_spine('contributions', 'processing_month') }}

),

not_settled_on_time as (

    -- everything else was paid by its due date and is never delinquent
    select *
    from contributions
    where collected_on is null or collected_on > due_date or written_off_yen > 0

),

delinquent as (

    select
        as_of_spine.as_of,
        count(distinct not_settled_on_time.establishment_number) as delinquent_establishments
    from as_of_spine
    inner join not_settled_on_time
        on not_settled_on_time.due_date <= as_of_spine.as_of
        -- still owed at as_of
        and (
            not_settled_on_time.determined_yen
            - case when not_settled_on_time.collected_on <= as_of_spine.as_of then not_settled_on_time.collected_yen else 0 end
            - case when not_settled_on_time.written_off_on <= as_of_spine.as_of then not_settled_on_time.written_off_yen else 0 end
        ) > 0
        and not coalesce(as_of_spine.as_of between not_settled_on_time.deferred_from and not_settled_on_time.deferred_until, false)
    group by all

),

covered as (

    select
        as_of_spine.as_of,
        count(*) as covered_establishments
    from as_of_spine
    inner join establishments
        on establishments.covered_from <= as_of_spine.as_of
        and (establishments.covered_until is null or establishments.covered_until > as_of_spine.as_of)
    group by all

)

select
    covered.as_of,
    covered.covered_establishments,
    coalesce(delinquent.delinquent_establishments, 0) as delinquent_establishments,
    coalesce(delinquent.delinquent_establishments, 0) / covered.covered_establishments as delinquent_share

from covered
left join delinquent on covered.as_of = delinquent.as_of
