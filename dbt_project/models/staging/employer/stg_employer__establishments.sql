-- Every register entry of the current version of each delivered register; the register of the
-- latest month describes an establishment (int_employer__establishments keeps it).
with source as (

    select * from {{ source('employer', 'establishments') }}

)

select
    establishment_number,
    prefecture_code,
    office_code,
    establishment_kind = '船舶' as is_ship_owner,
    covered_from,
    covered_until,
    _load_id,
    _source_file,
    _line_number,
    _file_period

from source
