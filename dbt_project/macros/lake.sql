{#
  The raw sources on each engine. DuckDB reads the working database's `raw.<table>__current`
  views, which the loader keeps (ingest/raw_schema.py). Spark reads the open raw layer
  (ingest/lake.py): before every invocation, `raw.<table>__current` is (re)declared as a view
  over the table's Parquet loads joined to the lake's manifest, with the same columns and the
  same meaning: the rows of each file's current version, with its period.
#}
{% macro declare_raw_sources() %}
    {{ return(adapter.dispatch('declare_raw_sources', 'pension_warehouse')()) }}
{% endmacro %}

{% macro default__declare_raw_sources() %}{% endmacro %}

{% macro spark__declare_raw_sources() %}
    {%- if execute -%}
    {%- set lake = var('lake_raw') -%}
    {%- do run_query('create database if not exists raw') -%}
    {%- for source in graph.sources.values() if source.schema == 'raw' -%}
        {%- set table = source.identifier | replace('__current', '') -%}
        {%- do run_query(
            "create or replace view raw." ~ source.identifier ~ " as
             select loads.* except (_load_id), cast(loads._load_id as bigint) as _load_id,
                    manifest.file_period as _file_period
             from parquet.`" ~ lake ~ "/" ~ table ~ "` as loads
             inner join parquet.`" ~ lake ~ "/load_manifest` as manifest
                on cast(loads._load_id as bigint) = manifest.load_id and manifest.superseded_by_load_id is null"
        ) -%}
    {%- endfor -%}
    {%- endif -%}
{% endmacro %}
