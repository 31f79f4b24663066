with dial_months as (

    select * from {{ ref('int_call_center__dial_months') }}

),

dials as (

    select * from {{ ref('call_center_dials') }}

),

final as (

    select
        dial_months.month,
        cast({{ fiscal_year('dial_months.month') }} as integer) as fiscal_year,
        dial_months.dial_code,
        dials.dial_name_ja,
        dial_months.calls_offered,
        dial_months.calls_answered,
        dial_months.calls_answered / dial_months.calls_offered as answer_rate,
        dial_months.calls_abandoned,
        dial_months.wait_seconds_answered / nullif(dial_months.calls_answered, 0) as avg_wait_seconds_answered,
        dials.is_appointment_line

    from dial_months
    inner join dials on dial_months.dial_code = dials.dial_code

)

select * from final
