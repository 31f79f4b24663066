-- Every employer-contribution figure of the agency report next to its value recomputed from
-- the marts. Amounts compare in 億円 (at scale 1.0 within the report's rounding to 1億円);
-- rates come out of the yen amounts, never out of the rounded 億円 figures.
with figures as (

    select * from {{ ref('published_employer_figures') }}

),

collection as (

    select * from {{ ref('employer_collection') }}

),

establishments as (

    select * from {{ ref('employer_delinquent_establishments') }}

),

recomputed as (

    select
        figures.*,
        case figures.measure
            when 'determined_oku' then collection.determined_yen / 1e8
            when 'collected_oku' then collection.collected_yen / 1e8
            when 'written_off_oku' then collection.written_off_yen / 1e8
            when 'arrears_oku' then collection.arrears_yen / 1e8
            when 'deferred_oku' then collection.deferred_yen / 1e8
            when 'determined_excl_deferral_oku' then (collection.determined_yen - collection.deferred_yen) / 1e8
            when 'arrears_excl_deferral_oku' then (collection.arrears_yen - collection.deferred_yen) / 1e8
            when 'collection_rate' then cast(100 as double) * collection.collection_rate
            when 'collection_rate_excl_deferral' then cast(100 as double) * collection.collection_rate_excl_deferral
            when 'covered_establishments' then establishments.covered_establishments
            when 'delinquent_establishments' then establishments.delinquent_establishments
            when 'delinquent_share' then cast(100 as double) * establishments.delinquent_share
        end as recomputed_value,
        {{ scale_applied(['oku_yen', 'establishments']) }} as scale_applied

    from figures
    left join collection
        on collection.as_of = figures.as_of and collection.insurance_name_ja = figures.insurance_name_ja
    left join establishments
        on establishments.as_of = figures.as_of

),

final as (

    select
        figure_id,
        as_of,
        insurance_name_ja,
        period_label,
        measure,
        unit,
        decimals,
        source_table,
        {{ compared_to_published() }},
        -- amounts are printed in whole 億円: half of one, scaled with the extracts
        {{ figure_tolerance(unit_tolerances={'oku_yen': '0.5 * scale_applied + 1e-9'}) }} as tolerance,
        known_discrepancy

    from recomputed

)

{{ reconciled('final') }}
