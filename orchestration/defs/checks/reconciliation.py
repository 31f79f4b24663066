"""Reconciliation against the published figures, as a blocking check that shows the figures.

The dbt model ``<kpi>_reconciliation`` computes every figure's status; its dbt test already
blocks on a mismatch. This check exists so the Dagster UI shows *which* figures failed,
with published and recomputed values side by side.
"""

import dagster as dg

from config.kpis import KPIS
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.kpis import mart_key

_COLUMNS = [
    "figure_id",
    "period_label",
    "measure",
    "published_value",
    "expected_value",
    "recomputed_value",
    "difference",
    "status",
]


def _markdown(rows: list[tuple]) -> str:
    def cell(v):
        return f"{v:,.4f}" if isinstance(v, float) else str(v)

    header = "| " + " | ".join(_COLUMNS) + " |\n|" + "---|" * len(_COLUMNS) + "\n"
    return header + "\n".join("| " + " | ".join(cell(v) for v in row) + " |" for row in rows)


def _figure(value: float) -> str:
    """A report's figure as it prints it: whole numbers without a decimal point."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def build_reconciliation_check(asset_key: dg.AssetKey, table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset_key,
        name="published_figures_reproduced",
        blocking=True,
        description="Every published figure is reproduced within its published precision; a figure the report "
        "itself contradicts (a known discrepancy, declared in the seed with its reason) passes and is named.",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.working(read_only=True) as con:
            rows = con.execute(
                f"select {', '.join(_COLUMNS)}, known_discrepancy from marts.{table} order by status desc, figure_id"
            ).fetchall()
        reasons = {r[0]: r[-1] for r in rows}
        rows = [r[:-1] for r in rows]
        by_status = {s: [r for r in rows if r[-1] == s] for s in ("match", "known_discrepancy", "mismatch")}
        metadata = {f"figures_{s}": len(v) for s, v in by_status.items()}
        if by_status["mismatch"]:
            metadata["mismatched_figures"] = dg.MetadataValue.md(_markdown(by_status["mismatch"]))
        if by_status["known_discrepancy"]:
            metadata["known_discrepancies"] = dg.MetadataValue.md(_markdown(by_status["known_discrepancy"]))
        said = [f"{len(by_status['match'])} of {len(rows)} figures reproduced"]
        if by_status["mismatch"]:
            said.append(f"MISMATCH: {', '.join(r[0] for r in by_status['mismatch'])}")
        for r in by_status["known_discrepancy"]:  # the report's own inconsistency: passes, said in full
            said.append(
                f"known discrepancy {r[0]}: published {_figure(r[3])} (at this scale {r[4]:,.2f}), "
                f"recomputed {r[5]:,.2f}. {reasons[r[0]]}"
            )
        return dg.AssetCheckResult(
            passed=not by_status["mismatch"] and bool(rows), metadata=metadata, description="; ".join(said)
        )

    return _check


@dg.definitions
def defs() -> dg.Definitions:
    """Each KPI's reconciliation mart, against the report's figures."""
    return dg.Definitions(
        asset_checks=[build_reconciliation_check(mart_key(kpi.reconciliation), kpi.reconciliation) for kpi in KPIS]
    )
