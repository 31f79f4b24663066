"""Every setting, declared once: the ``Settings`` model (pydantic-settings).

``defaults.env`` at the repository root holds the one default of each setting; a variable set
in the environment wins (the same rule ``make`` follows, exporting ``defaults.env`` under what
the environment sets). Each field is ``WAREHOUSE_<FIELD>``; each value is parsed to its field's
type, and a bad one fails with its variable's name and what it expects, before anything runs.
URLs that may carry a password are ``SecretStr``: never printed, never in a repr.

Everything reads its settings here: the Dagster resources (``orchestration.defs.resources``),
dbt's vars (``dbt_vars``), the operator commands, the demo generator, the bench, the dashboard
and the notebooks (``analytics.published``). The Dagster CLI in a fresh shell (`dagster dev`,
`dagster job launch`) needs nothing exported: the defaults come from the file, as for `make`.

    python -m config.settings             # every setting as it resolves here, secrets masked
    python -m config.settings --dbt-vars  # the --vars JSON for dbt on the working database
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from dotenv import dotenv_values
from pydantic import AliasGenerator, Field, SecretStr, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.layout import REPO_ROOT, SPARK_HOST, WarehousePaths

DEFAULTS_FILE = REPO_ROOT / "defaults.env"
PREFIX = "WAREHOUSE_"
JAPAN = dt.timezone(dt.timedelta(hours=9), "JST")


class SettingError(ValueError):
    """A setting whose value cannot be read: names the variable and what it expects."""


def variable(field: str) -> str:
    """The variable of a field: ``WAREHOUSE_<FIELD>``, or the alias a field declares."""
    alias = Settings.model_fields[field].validation_alias if field in Settings.model_fields else None
    return alias if isinstance(alias, str) else PREFIX + field.upper()


def _expected(what: str) -> PydanticCustomError:
    return PydanticCustomError("setting", what)


class Settings(BaseSettings):
    """The settings of ``defaults.env``, typed. No field has a default here: ``defaults.env`` gives it."""

    model_config = SettingsConfigDict(
        env_file=DEFAULTS_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
        alias_generator=AliasGenerator(validation_alias=lambda field: PREFIX + field.upper()),
        populate_by_name=True,
    )

    data_dir: Path
    scale: float  # of the demo extracts; 1.0 is national scale, and always 1.0 for real extracts
    seed: int
    duckdb_memory_limit: str
    settle_seconds: float
    sensor_interval_seconds: int = Field(ge=1)
    business_date: dt.date | None  # None: today in Japan
    stale_blocks: bool
    max_reject_rate: float
    lock_wait_seconds: float
    published_versions_kept: int = Field(ge=1)
    alert_urls: SecretStr  # apprise URLs separated by blanks: they may carry a password
    ui_host: str
    ui_port: int
    ui_url: str
    dagster_pg_url: SecretStr  # postgresql://user:password@host/db
    dashboard_port: int
    published_db_override: Path | None = Field(validation_alias="WAREHOUSE_PUBLISHED_DB")  # another database to read
    engine: Literal["duckdb", "spark"]  # where dbt builds: DuckDB's working database, or Spark from the lake
    spark_target: Literal["spark", "spark_cluster"]  # the dbt target of the Spark engine (profiles.yml)
    spark_driver_memory: str
    spark_thrift_port: int  # the cluster's Thrift server, on loopback (make spark-cluster)

    @field_validator("data_dir", mode="before")
    @classmethod
    def _a_path(cls, value: Any) -> Path:
        if not str(value).strip():
            raise _expected("is blank: expected a path (relative ones are relative to the repository)")
        return (REPO_ROOT / str(value).strip()).resolve()

    @field_validator("published_db_override", mode="before")
    @classmethod
    def _a_path_or_blank(cls, value: Any) -> Path | None:
        return (REPO_ROOT / str(value).strip()).resolve() if value and str(value).strip() else None

    @field_validator("business_date", mode="before")
    @classmethod
    def _a_date_or_blank(cls, value: Any) -> dt.date | None:
        if isinstance(value, dt.date) or value is None or not str(value).strip():
            return value or None
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise _expected("expected YYYY-MM-DD, or blank for today") from None

    @field_validator("stale_blocks", mode="before")
    @classmethod
    def _true_or_false(cls, value: Any) -> bool:
        # strictly the two words: pydantic alone would also read yes, on and 1
        if isinstance(value, bool) or str(value).strip().lower() in ("true", "false"):
            return value if isinstance(value, bool) else str(value).strip().lower() == "true"
        raise _expected("expected true or false")

    @field_validator(
        "duckdb_memory_limit", "ui_host", "ui_url", "engine", "spark_target", "spark_driver_memory", mode="before"
    )
    @classmethod
    def _trimmed(cls, value: Any) -> str:
        return str(value).strip()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings of the environment (or of ``environ``, and nothing else) over ``defaults.env``;
        :class:`SettingError` naming the variable when one cannot be read."""
        try:
            if environ is None:
                return cls()
            given = {k: v for k, v in environ.items() if k.startswith(PREFIX) and v is not None}
            return cls.model_validate({**defaults(), **given})
        except ValidationError as err:
            raise SettingError(_said(err)) from None

    @property
    def paths(self) -> WarehousePaths:
        return WarehousePaths(self.data_dir)

    @property
    def published_db(self) -> Path:
        """What analysts' tools open: ``WAREHOUSE_PUBLISHED_DB``, else the data directory's link."""
        return self.published_db_override or self.paths.published_db

    @property
    def night(self) -> dt.date:
        """The night being processed: ``WAREHOUSE_BUSINESS_DATE``; else, in a data directory ``make demo``
        made, the demo's night (its extracts stay on time, whatever today is); else today in Japan."""
        if self.business_date is not None:
            return self.business_date
        if (demo := self.paths.demo_business_date).exists():
            return dt.date.fromisoformat(demo.read_text(encoding="utf-8").strip())
        return dt.datetime.now(JAPAN).date()

    @property
    def alert_url_list(self) -> tuple[str, ...]:
        return tuple(self.alert_urls.get_secret_value().split())

    @property
    def dbt_target(self) -> str:
        """The profile's target dbt builds on: the working DuckDB database, or the Spark engine's."""
        return "working" if self.engine == "duckdb" else self.spark_target

    # dbt vars that say where things are (each derived from the data directory), not what dbt
    # builds: a data directory restored or moved elsewhere rebuilds nothing for them alone
    # (orchestration.lib.rebuilds).
    LOCATION_VARS: ClassVar[tuple[str, ...]] = (
        "working_db",
        "lake_raw",
        "spark_dir",
        "spark_warehouse",
        "spark_metastore",
        "spark_thrift_host",
        "spark_thrift_port",
    )

    def dbt_vars(self, working_db: Path | None = None) -> str:
        """dbt's ``--vars``: the database its profile opens (the working one unless said), the scale, and
        for the Spark targets the lake they read and the folder of their metastore and tables."""
        return json.dumps(
            {
                "working_db": str(working_db or self.paths.working_db),
                "scale": self.scale,
                "lake_raw": str(self.paths.lake_raw),
                "spark_dir": str(self.paths.spark_dir),
                "spark_warehouse": str(self.paths.spark_warehouse),
                "spark_metastore": str(self.paths.spark_metastore),
                "spark_thrift_host": SPARK_HOST,
                "spark_thrift_port": self.spark_thrift_port,
                # not read by the project: it makes a build on another engine a change of inputs
                # (orchestration.lib.rebuilds), so switching engines rebuilds every KPI once
                "target": self.dbt_target,
            }
        )


_MESSAGES = {
    "float_parsing": "expected a number",
    "int_parsing": "expected an integer",
    "int_from_float": "expected an integer",
    "greater_than_equal": "expected a whole number of at least 1",
}


def _said(err: ValidationError) -> str:
    """The first problem, as the variable, its value and what it expects."""
    problem = err.errors()[0]
    field = str(problem["loc"][0])
    name = variable(field) if field in Settings.model_fields else field
    if problem["type"] == "missing":
        return f"{name} is not set, and {DEFAULTS_FILE} gives it no default"
    message = _MESSAGES.get(problem["type"], problem["msg"])
    if message.startswith("is blank"):
        return f"{name} {message}"
    return f"{name}={problem['input']!r}: {message}"


@functools.cache
def defaults() -> dict[str, str]:
    """``defaults.env``: every setting's one default."""
    return {k: v or "" for k, v in dotenv_values(DEFAULTS_FILE).items()}


def environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment with every setting present, defaults filled in: for the processes started from
    here that read variables themselves (dbt's profile reads them through ``env_var``)."""
    return {**defaults(), **(os.environ if environ is None else environ)}


def main(argv: list[str]) -> int:
    settings = Settings.from_env()
    if argv == ["--dbt-vars"]:
        print(settings.dbt_vars())
        return 0
    for field in Settings.model_fields:
        value = getattr(settings, field)
        if isinstance(value, SecretStr):
            value = "(set; not shown: it may hold a password)" if value.get_secret_value() else ""
        print(f"{variable(field)}={'' if value is None else value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
