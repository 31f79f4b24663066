"""What the test session makes once for all its workers: the demo extracts and the first night.

``make test`` runs on two pytest-xdist workers, each a process with its own session fixtures.
Made per worker, the extracts and the first nightly run cost each worker a minute; made here,
the first worker to ask makes them under a file lock, and the others wait for it and share
the result. Tests never change what is made here: they copy it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from filelock import FileLock


def shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this test session that every worker sees: under xdist, the parent of the
    workers' own temporary folders; in a plain pytest run, the session's own."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if "PYTEST_XDIST_WORKER" in os.environ else base


def made_once(shared: Path, name: str, make: Callable[[Path], None]) -> Path:
    """``shared/name``, made by ``make(folder)`` in the first worker to ask; the others wait for
    it. A make that failed is begun again from nothing by the next worker to ask (and fails
    its tests alike)."""
    folder, done = shared / name, shared / f"{name}.done"
    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(shared / f"{name}.lock"):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            make(folder)
            done.touch()
    return folder


@dataclass(frozen=True)
class RecordedRun:
    """A finished run as the tests read it, from its event log: what ``ExecuteInProcessResult``
    offers them, without the process that ran it (another worker may have)."""

    run_id: str
    success: bool
    events: tuple[dg.DagsterEvent, ...]

    @classmethod
    def of(cls, result: dg.ExecuteInProcessResult) -> RecordedRun:
        return cls(result.run_id, result.success, tuple(result.all_events))

    def save(self, path: Path) -> None:
        path.write_text(dg.serialize_value([self.run_id, self.success, list(self.events)]), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> RecordedRun:
        run_id, success, events = dg.deserialize_value(path.read_text(encoding="utf-8"))
        return cls(run_id, success, tuple(events))

    def get_asset_materialization_events(self) -> list[dg.DagsterEvent]:
        return [event for event in self.events if event.is_step_materialization]

    def get_asset_check_evaluations(self) -> list[dg.AssetCheckEvaluation]:
        return [
            event.asset_check_evaluation_data
            for event in self.events
            if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ]
