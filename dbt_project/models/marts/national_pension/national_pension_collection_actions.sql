-- Collection actions by fiscal half-year, prefecture and action, against the same half a year
-- before: the report's 行動計画の進捗状況 (special and final reminders, demand notices,
-- seizures). Every action of every half the extracts cover has a row in every prefecture, a
-- zero included (demand notices stopped in 2020: 0 is a figure, not a gap). Nationwide: sum
-- the counts over prefectures, then divide.
with actions as (

    select * from {{ ref('stg_national_pension__collection_actions') }}

),

action_types as (

    select * from {{ ref('np_collection_action_types') }}

),

prefectures as (

    select * from {{ ref('prefectures') }}

),

halves as (

    select distinct
        fiscal_year,
        fiscal_half
    from actions

),

grid as (

    select
        halves.fiscal_year,
        halves.fiscal_half,
        prefectures.prefecture_code,
        action_types.action_code,
        action_types.action_name_ja,
        action_types.action_name_en
    from halves
    cross join prefectures
    cross join action_types

),

counted as (

    select
        fiscal_year,
        fiscal_half,
        prefecture_code,
        action_code,
        count(*) as actions,
        count(distinct person_key) as persons
    from actions
    group by fiscal_year, fiscal_half, prefecture_code, action_code

),

filled as (

    select
        grid.*,
        cast(coalesce(counted.actions, 0) as bigint) as actions,
        cast(coalesce(counted.persons, 0) as bigint) as persons
    from grid
    left join counted
        on grid.fiscal_year = counted.fiscal_year
        and grid.fiscal_half = counted.fiscal_half
        and grid.prefecture_code = counted.prefecture_code
        and grid.action_code = counted.action_code

),

final as (

    select
        filled.fiscal_year,
        filled.fiscal_half,
        filled.prefecture_code,
        filled.action_code,
        filled.action_name_ja,
        filled.action_name_en,
        filled.actions,
        filled.persons,
        previous.actions as actions_previous_year,
        cast(100 as double) * filled.actions / nullif(previous.actions, 0) as ratio_to_previous_year_percent
    from filled
    left join filled as previous
        on filled.fiscal_year - 1 = previous.fiscal_year
        and filled.fiscal_half = previous.fiscal_half
        and filled.prefecture_code = previous.prefecture_code
        and filled.action_code = previous.action_code

)

select * from final
