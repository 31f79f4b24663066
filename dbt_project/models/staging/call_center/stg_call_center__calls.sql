with source as (

    select * from {{ source('call_center', 'calls') }}

),

renamed as (

    select
        call_id,
        dial as dial_code,
        received_at,
        -- KPIs are reported by Japanese calendar month, so attribute calls in JST.
        {{ japan_time('received_at') }} as received_at_jst,
        cast({{ japan_time('received_at') }} as date) as received_date_jst,
        answered as is_answered,
        answered_at,
        wait_seconds,
        talk_seconds,
        disconnect_reason,
        _load_id,
        _source_file,
        _line_number,
        _file_period

    from source

)

select * from renamed
