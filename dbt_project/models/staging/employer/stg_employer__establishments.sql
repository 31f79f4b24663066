-- The latest register delivery describes every establishment.
with source as (

    select * from {{ source('employer', 'establishments') }}

),

latest as (

    select *
    from source
    qualify row_number() over (partition by establishment_number order by _load_id desc, _line_number desc) = 1

)

select
    establishment_number,
    prefecture_code,
    office_code,
    establishment_kind = '船舶' as is_ship_owner,
    covered_from,
    covered_until

from latest
