"""Every setting, read once: ``Settings.from_env()``.

``defaults.env`` at the repository root holds the one default of each setting; a variable set
in the environment wins (the same rule ``make`` follows). Each value is parsed to its type here,
and a bad one fails with its variable's name and what it expects, before anything runs.

The Dagster resource (``orchestration.defs.resources``) takes the same variables through ``EnvVar``
and parses them with ``Settings.from_values``; the demo, the generator command, bench, the
hand-run dbt and rollback commands and the analysts' notebooks use ``Settings.from_env()``.
dbt gets what its profile and models need from ``dbt_vars``.

    python -m config.settings             # every setting as it resolves here
    python -m config.settings --dbt-vars  # the --vars JSON for dbt on the working database
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from dotenv import dotenv_values

from config.layout import REPO_ROOT, WarehousePaths

DEFAULTS_FILE = REPO_ROOT / "defaults.env"
PREFIX = "WAREHOUSE_"


class SettingError(ValueError):
    """A setting whose value cannot be read: names the variable and what it expects."""


def _number(kind: type) -> Callable[[str, str], float | int]:
    def parse(name: str, value: str):
        try:
            return kind(value)
        except ValueError:
            raise SettingError(f"{name}={value!r}: expected {'an integer' if kind is int else 'a number'}") from None

    return parse


def _positive_int(name: str, value: str) -> int:
    number = _number(int)(name, value)
    if number < 1:
        raise SettingError(f"{name}={value!r}: expected a whole number of at least 1")
    return number


def _boolean(name: str, value: str) -> bool:
    if value.strip().lower() not in ("true", "false"):
        raise SettingError(f"{name}={value!r}: expected true or false")
    return value.strip().lower() == "true"


def _date(name: str, value: str) -> dt.date | None:
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise SettingError(f"{name}={value!r}: expected YYYY-MM-DD, or blank for today") from None


def _path(name: str, value: str) -> Path:
    if not value.strip():
        raise SettingError(f"{name} is blank: expected a path (relative ones are relative to {REPO_ROOT})")
    return (REPO_ROOT / value.strip()).resolve()


def _optional_path(name: str, value: str) -> Path | None:
    return _path(name, value) if value.strip() else None


def _text(name: str, value: str) -> str:
    return value.strip()


def _words(name: str, value: str) -> tuple[str, ...]:
    return tuple(value.split())


@dataclass(frozen=True)
class Settings:
    """The settings of ``defaults.env``, typed; each field is ``WAREHOUSE_<FIELD>``."""

    data_dir: Path
    scale: float  # of the demo extracts; 1.0 is national scale, and always 1.0 for real extracts
    seed: int
    duckdb_memory_limit: str
    settle_seconds: float
    sensor_interval_seconds: int
    business_date: dt.date | None  # None: today in Japan
    stale_blocks: bool
    max_reject_rate: float
    lock_wait_seconds: float
    alert_urls: tuple[str, ...]
    ui_host: str
    ui_port: int
    ui_url: str
    dagster_pg_url: str
    dashboard_port: int
    published_db_override: Path | None  # WAREHOUSE_PUBLISHED_DB: another published database to read

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        return cls.from_values(os.environ if environ is None else environ)

    @classmethod
    def from_values(cls, values: Mapping[str, str]) -> Settings:
        """``values`` by variable name over ``defaults.env``; a variable in neither is an error."""
        merged = {**defaults(), **{k: v for k, v in values.items() if k.startswith(PREFIX) and v is not None}}
        parsed = {}
        for field in fields(cls):
            name = variable(field.name)
            if name not in merged:
                raise SettingError(f"{name} is not set, and {DEFAULTS_FILE} gives it no default")
            parsed[field.name] = _PARSERS[field.name](name, merged[name])
        return cls(**parsed)

    @property
    def paths(self) -> WarehousePaths:
        return WarehousePaths(self.data_dir)

    @property
    def published_db(self) -> Path:
        """What analysts' tools open: ``WAREHOUSE_PUBLISHED_DB``, else the data directory's link."""
        return self.published_db_override or self.paths.published_db

    def dbt_vars(self, working_db: Path | None = None) -> str:
        """dbt's ``--vars``: the database its profile opens (the working one unless said) and the scale."""
        return json.dumps({"working_db": str(working_db or self.paths.working_db), "scale": self.scale})


_PARSERS: dict[str, Callable[[str, str], object]] = {
    "data_dir": _path,
    "scale": _number(float),
    "seed": _number(int),
    "duckdb_memory_limit": _text,
    "settle_seconds": _number(float),
    "sensor_interval_seconds": _positive_int,
    "business_date": _date,
    "stale_blocks": _boolean,
    "max_reject_rate": _number(float),
    "lock_wait_seconds": _number(float),
    "alert_urls": _words,
    "ui_host": _text,
    "ui_port": _number(int),
    "ui_url": _text,
    "dagster_pg_url": _text,
    "dashboard_port": _number(int),
    "published_db_override": _optional_path,
}
_VARIABLES = {"published_db_override": "WAREHOUSE_PUBLISHED_DB"}
SECRET = {"alert_urls", "dagster_pg_url"}  # URLs that may carry a password: never printed


def variable(field: str) -> str:
    return _VARIABLES.get(field, PREFIX + field.upper())


@functools.cache
def defaults() -> dict[str, str]:
    """``defaults.env``: every setting's one default."""
    return {k: v or "" for k, v in dotenv_values(DEFAULTS_FILE).items()}


def environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment with every setting present, defaults filled in: for the processes started
    from here (Dagster's daemon and runs bind the settings through ``EnvVar``)."""
    return {**defaults(), **(os.environ if environ is None else environ)}


def main(argv: list[str]) -> int:
    settings = Settings.from_env()
    if argv == ["--dbt-vars"]:
        print(settings.dbt_vars())
        return 0
    for field in fields(Settings):
        value = getattr(settings, field.name)
        if field.name in SECRET and value:
            value = "(set; not shown: it may hold a password)"
        print(f"{variable(field.name)}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
