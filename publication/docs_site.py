"""The dbt docs site beside each published version, so analysts browse the docs of what they read.

    published/docs.html -> versions/warehouse_<UTC time>_<kind>.docs.html   (dbt's --static site, one file)

Each version file has its site, made before the version is shown and shown with it
(``publication.version_files.promote``). A site
is dbt's ``docs generate --static`` over a schema-only copy of the working database (no rows:
no personal data in a scratch file, and a second to copy at any scale), in a scratch folder that
is removed even when dbt fails. Generating takes seconds, so a site is made only when the
project or the warehouse's schema changed since the newest one; otherwise that one is linked.
A site's first line names what it was made from (``DOCS_KEY_PREFIX``).

The docs never block figures: if dbt cannot make a site, the version publishes without one and
the link keeps the previous site (``build`` returns None and says why).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb

from commands import dbt_child
from config.layout import DBT_PROJECT_DIR
from config.settings import Settings
from publication import duckdb_files, version_files

DOCS_KEY_PREFIX = "<!-- pension warehouse docs: "
# What a site shows besides the warehouse's schema: the project's models, docs, tests and seeds.
_PROJECT_SOURCES = ("dbt_project.yml", "models", "macros", "seeds", "tests")


def _key(working: duckdb.DuckDBPyConnection, project_dir: Path) -> str:
    digest = hashlib.sha256()
    for top in _PROJECT_SOURCES:
        root = project_dir / top
        for path in sorted([root] if root.is_file() else root.rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(project_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    columns = working.execute(
        "select schema_name, table_name, column_name, data_type from duckdb_columns() "
        "where database_name = current_database() and schema_name not in ('publication', 'pipeline') "
        "order by all"
    ).fetchall()  # not the pipeline's own bookkeeping, which changes every publication
    digest.update(json.dumps(columns).encode())
    return digest.hexdigest()[:16]


def _site_key(site: Path) -> str | None:
    with site.open(encoding="utf-8") as handle:
        first = handle.readline()
    return first.removeprefix(DOCS_KEY_PREFIX).split(" ", 1)[0] if first.startswith(DOCS_KEY_PREFIX) else None


def _generate(working: duckdb.DuckDBPyConnection, settings: Settings, project_dir: Path) -> str:
    """dbt's static site's HTML, generated in a scratch folder that goes with it."""
    with tempfile.TemporaryDirectory(prefix="docs_") as scratch:
        schema = Path(scratch) / "warehouse.duckdb"  # the working database's name, as the manifest expects
        duckdb_files.copy_database(working, schema, schema_only=True)
        command = [
            str(dbt_child.executable()),  # dies with the step, and starts faster than plain dbt
            "docs",
            "generate",
            "--static",
            "--quiet",
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(project_dir),
            "--target-path",
            str(Path(scratch) / "target"),
            "--vars",
            settings.dbt_vars(working_db=schema),
        ]
        done = subprocess.run(command, cwd=project_dir, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"dbt docs generate failed ({done.returncode}): {(done.stdout + done.stderr)[-2000:]}")
        return (Path(scratch) / "target" / "static_index.html").read_text(encoding="utf-8")


def build(
    working: duckdb.DuckDBPyConnection,
    version: Path,
    settings: Settings,
    log: Callable[[str], None] = print,
    project_dir: Path = DBT_PROJECT_DIR,
) -> Path | None:
    """The read-only site of the version about to be published at ``version``; None if dbt could not make one."""
    site = version_files.site_of(version)
    key = _key(working, project_dir)
    for previous in sorted(version.parent.glob(f"*{version_files.SITE_SUFFIX}"), reverse=True):
        if _site_key(previous) == key:
            os.link(previous, site)  # the same project over the same schema: the same site
            return site
        break  # only the newest site is a candidate: an older one may describe a schema since changed
    try:
        html = _generate(working, settings, project_dir)
    except (RuntimeError, OSError, duckdb.Error) as error:
        log(f"no docs site for {version.name}: {error}; the figures publish without it")
        return None
    building = site.with_name(site.name + ".building")
    building.write_text(f"{DOCS_KEY_PREFIX}{key} -->\n{html}", encoding="utf-8")
    os.chmod(building, version_files.PUBLISHED_MODE)
    os.replace(building, site)
    return site


def copy_for(source_version: Path, version: Path) -> None:
    """A version that republishes another's marts (a rollback) gets that version's site."""
    source, site = version_files.site_of(source_version), version_files.site_of(version)
    if source.exists() and not site.exists():
        os.link(source, site)
