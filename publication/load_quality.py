"""``marts.load_quality``, in every published version: one row per loaded file version.

What was read, loaded and rejected, and why lines were rejected: each kind of reason with its
count of lines (``raw.rejects.reason_kinds``), quoting nothing of a line, so it holds no personal
data and can be published; the lines themselves stay in the working database's ``raw.rejects``.
Read from the ``raw`` schema (``ingest.raw_schema``) by the publication, never by analysts directly.
"""

from __future__ import annotations

from ingest.raw_schema import RAW_SCHEMA

LOAD_QUALITY_SQL = f"""
with reasons as (
    select load_id, unnest(coalesce(reason_kinds, ['(recorded before reasons were counted by kind)'])) as reason
    from {RAW_SCHEMA}.rejects
),
counted as (
    select load_id, reason, count(*) as lines from reasons group by all
),
per_load as (
    select load_id, list({{'reason': reason, 'lines': lines}} order by lines desc, reason) as reject_reasons
    from counted group by load_id
)
select m.source, m.entity, m.file_name, m.file_version, m.load_id, m.loaded_at,
       m.rows_read, m.rows_loaded, m.rows_rejected,
       m.superseded_by_load_id is null as is_current,
       coalesce(p.reject_reasons, []::struct(reason varchar, lines bigint)[]) as reject_reasons
from {RAW_SCHEMA}.load_manifest m
left join per_load p using (load_id)
order by m.load_id
"""
