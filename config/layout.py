"""Where a run reads and writes, derived from one data directory.

Everything a run writes lives under ``data_dir`` (git-ignored):

    data/landing/<source>/      extracts as delivered (never modified)
    data/working/warehouse.duckdb   the pipeline's private read-write database
    data/published/warehouse.duckdb symlink to the current published version
    data/published/versions/        immutable published versions
    data/dbt/<step>-<run>-<id>/     each dbt invocation's target folder, while its step runs
    data/reload/<source>/<file>     a landing file an operator asked to have read again
    data/lake/raw/<source>__<entity>/_load_id=<id>/   each load as immutable Parquet (ingest.lake)
    data/spark/                     the Spark engine's metastore and warehouse (WAREHOUSE_ENGINE=spark)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"


def seed_csv(name: str, seeds_dir: Path = SEEDS_DIR) -> Path:
    """A dbt seed's file: each lies in the folder of the KPI it belongs to (seeds/<kpi>/<name>.csv)."""
    [path] = seeds_dir.glob(f"*/{name}.csv")
    return path


EXPECTATIONS_DIR = REPO_ROOT / "expectations"
WORKSPACE = REPO_ROOT / "workspace.yaml"  # the code location, as the webserver, the daemon and the CLI load it
SPARK_HOST = "127.0.0.1"  # the local Spark cluster listens on loopback only (engines.spark_cluster)
BIN = Path(sys.executable).parent  # this environment's own commands (dagster, dbt): an unactivated venv still works


@dataclass(frozen=True)
class WarehousePaths:
    data_dir: Path

    @property
    def landing(self) -> Path:
        return self.data_dir / "landing"

    @property
    def working_db(self) -> Path:
        return self.data_dir / "working" / "warehouse.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.data_dir / "published"

    @property
    def published_db(self) -> Path:
        return self.published_dir / "warehouse.duckdb"

    @property
    def lake_raw(self) -> Path:
        """The open raw layer: every load as Parquet, which any engine reads (``ingest.lake``)."""
        return self.data_dir / "lake" / "raw"

    @property
    def spark_dir(self) -> Path:
        """The Spark engine's own state: its Derby metastore and the warehouse its tables are written to."""
        return self.data_dir / "spark"

    @property
    def spark_warehouse(self) -> Path:
        """Where Spark writes the tables dbt builds: ``<schema>.db/<table>/``, Parquet."""
        return self.spark_dir / "warehouse"

    @property
    def spark_metastore(self) -> Path:
        """Spark's Derby metastore (one writer at a time, like the working database)."""
        return self.spark_dir / "metastore_db"

    @property
    def scratch(self) -> Path:
        """Where the loader's decoded copies live: anonymous files (no name, freed when the process ends), so it stays empty."""
        return self.data_dir / "scratch"

    @property
    def dbt_invocations(self) -> Path:
        """Where each dbt step's own target folder lives while it runs: beside the database it builds, so
        that a sweep of what killed runs left behind sees only the runs of this data directory's instance."""
        return self.data_dir / "dbt"

    @property
    def demo_business_date(self) -> Path:
        """Written by ``make demo``: the night its extracts were made for. While it exists, every run on
        this data directory (the UI's, the schedule's, the sensor's) takes that night, not today."""
        return self.data_dir / "demo_business_date"

    @property
    def reload_requests(self) -> Path:
        """Markers of landing files an operator asked to have read again (``make reload``, ``ingest.landing.reload``)."""
        return self.data_dir / "reload"

    def landing_dir(self, source: str) -> Path:
        return self.landing / source
