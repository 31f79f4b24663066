"""A published version cannot be written into even by root, where the filesystem allows it; where it
does not, a pipeline running as root says so at start."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest

from publication import version_files
from publication.publish import publish
from tests.conftest import query

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="root ignores the file mode: only root needs the attribute")


@pytest.fixture
def published(paths):
    paths.working_db.parent.mkdir(parents=True)
    with duckdb.connect(str(paths.working_db)) as con:
        con.execute("create schema marts; create table marts.alpha as select 1 as v")
        publish(con, paths, "a", ["alpha"], {}, "run1")
    return paths.published_db.resolve()


@root_only
def test_root_cannot_open_a_published_version_for_writing(paths, published):
    assert version_files.is_immutable(published)
    assert version_files.protection_problem(paths) is None  # nothing to warn about
    with pytest.raises(duckdb.IOException, match="Operation not permitted"):
        duckdb.connect(str(paths.published_db))  # root's default read-write connection fails at once
    with pytest.raises(PermissionError):
        published.open("ab")
    assert query(paths.published_db, "select v from marts.alpha") == [(1,)]  # readers read on
    assert not list(published.parent.glob("*.wal"))


@root_only
def test_pruning_and_clean_up_release_what_they_remove(paths, published):
    with duckdb.connect(str(paths.working_db)) as con:
        for run in range(2, 5):
            con.execute(f"create or replace table marts.alpha as select {run} as v")
            publish(con, paths, "a", ["alpha"], {}, f"run{run}", keep=2)
    kept = sorted(published.parent.glob("warehouse_*.duckdb"))
    assert len(kept) == 2 and not published.exists()  # the first was released, then removed
    assert all(version_files.is_immutable(path) for path in kept)
    version_files.release_tree(paths.published_dir)
    assert not any(version_files.is_immutable(path) for path in kept)


@root_only
def test_a_root_pipeline_that_cannot_set_the_attribute_warns(paths, published):
    """Without CAP_LINUX_IMMUTABLE (a container, a filesystem without the attribute) root could write
    into a version: the probe says so, and the demo, make serve and each publication print it."""
    probe = (
        "import sys; from pathlib import Path; from config.layout import WarehousePaths; "
        "from publication.version_files import protection_problem; "
        "print(protection_problem(WarehousePaths(Path(sys.argv[1]))))"
    )
    done = subprocess.run(
        [
            "setpriv",
            "--inh-caps=-linux_immutable",
            "--bounding-set=-linux_immutable",
            sys.executable,
            "-c",
            probe,
            str(paths.data_dir),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.startswith("running as root, and ") and "Run the pipeline as a service user" in done.stdout
    assert not list((paths.published_dir / "versions").glob(".protection-probe-*"))  # the probe leaves nothing
