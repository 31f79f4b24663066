"""`make serve`: the production processes, dagster-webserver and dagster-daemon, side by side.

Not ``dagster dev``, which Dagster meant for a laptop: here each runs as its own process (its own
process group), on the instance of DAGSTER_HOME (PostgreSQL when WAREHOUSE_DAGSTER_PG_URL is
set, see ``commands.instance``). The webserver serves the UI on WAREHOUSE_UI_HOST and
WAREHOUSE_UI_PORT; the daemon runs the schedule, the sensors and the run queue. SIGTERM or
Ctrl-C stops both; if either exits, the other is stopped and this exits non-zero, so a
supervisor (systemd, see the README) restarts the pair. On a server, run them as two systemd
units instead; this is the same thing in one command.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from commands import instance
from config.layout import BIN, REPO_ROOT, WORKSPACE
from config.settings import Settings, environment
from publication import version_files

STOP_TIMEOUT_SECONDS = 60


def commands(host: str, port: str) -> dict[str, list[str]]:
    return {
        "dagster-webserver": [str(BIN / "dagster-webserver"), "-w", str(WORKSPACE), "-h", host, "-p", port],
        "dagster-daemon": [str(BIN / "dagster-daemon"), "run", "-w", str(WORKSPACE)],
    }


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for process in processes.values():
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> int:
    settings = Settings.from_env()
    if (problem := version_files.protection_problem(settings.paths)) is not None:
        print(f"WARNING: {problem}", file=sys.stderr, flush=True)
    home = Path(os.environ["DAGSTER_HOME"])
    on_postgres = instance.configure(home)
    host, port = settings.ui_host, str(settings.ui_port)
    stopping: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, _frame: stopping.append(number))

    processes = {
        name: subprocess.Popen(command, cwd=REPO_ROOT, env=environment(), start_new_session=True)
        for name, command in commands(host, port).items()
    }
    print(
        f"serving: UI on http://{host}:{port} (dagster-webserver pid {processes['dagster-webserver'].pid}), "
        f"schedule, sensors and run queue (dagster-daemon pid {processes['dagster-daemon'].pid}); "
        f"instance {home} on {'PostgreSQL' if on_postgres else 'SQLite'}. Ctrl-C or SIGTERM stops both.",
        flush=True,
    )
    try:
        while not stopping:
            exited = {name: p.returncode for name, p in processes.items() if p.poll() is not None}
            if exited:
                print(
                    f"{', '.join(f'{n} exited ({code})' for n, code in exited.items())}: stopping the other",
                    file=sys.stderr,
                )
                return 1
            time.sleep(1)
        print(f"signal {stopping[0]}: stopping dagster-webserver and dagster-daemon", flush=True)
        return 0
    finally:
        _stop(processes)


if __name__ == "__main__":
    sys.exit(main())
