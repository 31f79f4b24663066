"""Extract specifications: what a landing file must look like, declared once per source.

A spec is data, not code: the loader turns it into SQL. Each column names its raw DuckDB
type and how its text is parsed (a SQL template over ``{v}``, the trimmed field text, which
must yield NULL when the text is not a valid value). Row rules are SQL conditions over the
parsed columns; a row that fails one goes to ``raw.rejects`` with the rule's reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    parse: str = "try_cast({v} as {type})"
    required: bool = True
    description: str = ""

    def parse_sql(self, text_sql: str) -> str:
        return self.parse.format(v=text_sql, type=self.type)


@dataclass(frozen=True)
class RowRule:
    reason: str
    condition: str  # SQL over parsed column names; a row passes when it is true or NULL


@dataclass(frozen=True)
class ExtractSpec:
    source: str  # landing sub-directory; raw table prefix
    entity: str
    pattern: str  # glob of landing files, relative to the source's landing directory
    encoding: str  # Python codec used for strict decoding
    columns: tuple[Column, ...]
    header: tuple[str, ...]  # header labels exactly as the source system prints them
    rules: tuple[RowRule, ...] = ()
    delimiter: str = ","
    description: str = ""
    lineage_columns: tuple[str, ...] = field(default=("_load_id", "_source_file", "_line_number"))

    def __post_init__(self):
        if len(self.header) != len(self.columns):
            raise ValueError(f"{self.source}: header has {len(self.header)} labels for {len(self.columns)} columns")

    @property
    def raw_table(self) -> str:
        return f"{self.source}__{self.entity}"


ISO_TIMESTAMPTZ = "try_strptime({v}, '%Y-%m-%dT%H:%M:%S%z')"

CALL_CENTER = ExtractSpec(
    source="call_center",
    entity="calls",
    pattern="cdr_*.csv",
    encoding="utf-8",
    description="Call detail records exported daily by the contact-center platform: one row per inbound call.",
    header=(
        "call_id", "dial", "received_at", "answered", "answered_at", "wait_seconds", "talk_seconds", "disconnect_reason",
    ),
    columns=(
        Column("call_id", "VARCHAR", parse="{v}", description="Platform call identifier."),
        Column("dial", "VARCHAR", parse="{v}", description="Dial (queue) code the caller reached."),
        Column("received_at", "TIMESTAMPTZ", parse=ISO_TIMESTAMPTZ, description="When the call reached the queue (ISO-8601, +09:00)."),
        Column("answered", "BOOLEAN", description="Whether an agent answered the call."),
        Column("answered_at", "TIMESTAMPTZ", parse=ISO_TIMESTAMPTZ, required=False, description="When an agent answered."),
        Column("wait_seconds", "INTEGER", description="Seconds in queue before answer or disconnect."),
        Column("talk_seconds", "INTEGER", description="Seconds talking to an agent; 0 when unanswered."),
        Column("disconnect_reason", "VARCHAR", parse="{v}", description="Why the call ended."),
    ),
    rules=(
        RowRule("negative duration", "wait_seconds >= 0 and talk_seconds >= 0"),
        RowRule("answered call without answered_at", "not answered or answered_at is not null"),
        RowRule("unanswered call with answer or talk time", "answered or (answered_at is null and talk_seconds = 0)"),
        RowRule("answered before received", "answered_at is null or answered_at >= received_at"),
        RowRule(
            "unknown disconnect_reason",
            "disconnect_reason in ('caller_release', 'agent_release', 'caller_abandoned', 'system_busy')",
        ),
    ),
)

SPECS: dict[str, ExtractSpec] = {spec.source: spec for spec in (CALL_CENTER,)}
