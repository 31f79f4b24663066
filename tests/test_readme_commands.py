"""Every shell command in the README's ``bash`` blocks, run as written in a fresh shell.

The environment is a new user's: only ``PATH`` and ``HOME``, and whatever the README's own lines
export. Each block runs in one ``bash``, from the repository root, on a data directory that
``make demo`` made as the README says; the one liberty taken is where that data directory lives
(``WAREHOUSE_DATA_DIR`` points into the test's temporary folder, and the README's ``data/``
paths follow it), so the test never writes into the checkout's ``data/``.

Each command is either run, or listed in ``NOT_RUN`` with why a CI machine cannot run it; a
README command in neither fails the test, so a new one cannot go untried.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest

from config.layout import REPO_ROOT
from tests.smtp import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.pipeline  # real processes: make test-fast leaves this file out

README = REPO_ROOT / "README.md"

CLUSTER = (
    "the local Spark cluster listens on fixed ports, one per machine: tests/test_spark_equality.py starts it "
    "(engines.spark_cluster, as make spark-cluster does), builds the night on it and stops it, and would collide "
    "with a second one started here in parallel"
)
# The commands this test does not run, each with why.
NOT_RUN = {
    "make test": "this suite is what it runs (CI runs it: .ci/run)",
    "useradd --system --home-dir /srv/warehouse --shell /usr/sbin/nologin warehouse": "creates a system user: a server's root, once",
    "chown -R warehouse: /srv/warehouse": "changes the owner of a server's checkout",
    "sudo -u warehouse make -C /srv/warehouse setup": "needs the service user above; make setup itself runs below",
    "WAREHOUSE_DATA_DIR=$PWD/data-scale1 WAREHOUSE_SCALE=1.0 .venv/bin/python -m commands.demo_night": (
        "national scale: about 90 minutes and 8 GB (BENCHMARKS.md); make demo runs the same command at 0.01 below"
    ),
    "make spark-cluster": CLUSTER,
    "WAREHOUSE_ENGINE=spark WAREHOUSE_SPARK_TARGET=spark_cluster make demo": CLUSTER,
    "make spark-cluster-stop": CLUSTER,
}
# Servers: started as written, asked for a page, stopped.
SERVERS = {
    "make ui": "/server_info",
    "make serve": "/server_info",
}


def _commands(block: str) -> list[str]:
    """A block's commands as bash reads them: a newline inside quotes or after a backslash continues
    the command; a ``#`` after a blank, outside quotes, starts a comment."""
    commands, current, quote, comment = [], "", None, False
    for i, char in enumerate(block):
        if comment:
            if char == "\n":
                comment = False
                commands.append(current)
                current = ""
            continue
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or block[i - 1] in " \t"):
            comment = True
            continue
        elif char == "\n" and not current.endswith("\\"):
            commands.append(current)
            current = ""
            continue
        current += char
    commands.append(current)
    return [re.sub(r"\\\n\s*", " ", c).strip() for c in commands if c.strip()]


def readme_commands() -> list[list[str]]:
    """Each ``bash`` block's commands, block by block."""
    blocks = re.findall(r"^```bash\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.M | re.S)
    return [_commands(block) for block in blocks]


def test_every_readme_command_is_tried_or_says_why_not():
    commands = {c for block in readme_commands() for c in block}
    assert len(commands) >= 12
    assert set(NOT_RUN) <= commands, f"NOT_RUN names commands the README no longer has: {set(NOT_RUN) - commands}"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A new user's shell: PATH and HOME, the data directory in the test's folder; `make demo` as written."""
    root = tmp_path_factory.mktemp("readme")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root / "home"), "WAREHOUSE_DATA_DIR": str(root / "data")}
    (root / "home").mkdir()
    [first] = [block for block in readme_commands() if block and block[0].startswith("make demo")]
    done = subprocess.run(
        ["bash", "-c", "make demo"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1200
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert first[0] == "make demo"
    return root, env


def _as_here(command: str, root: Path) -> str:
    """The command on the test's data directory: the README's ``data/`` paths follow WAREHOUSE_DATA_DIR."""
    return command.replace("$PWD/data/", f"{root}/data/").replace(" data/", f" {root}/data/")


def _run(command: str, root: Path, env: dict[str, str], timeout: float = 1500) -> subprocess.CompletedProcess:
    # 1500 s: a block may run a whole night (the Spark engine's demo: about 4 minutes alone, 8 beside the suite)
    return subprocess.run(
        ["bash", "-c", _as_here(command, root)], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def _serve(command: str, path: str, env: dict[str, str]) -> None:
    port = free_port()
    process = subprocess.Popen(
        ["bash", "-c", command],
        cwd=REPO_ROOT,
        env={**env, "WAREHOUSE_UI_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:

        def answers() -> bool:
            try:
                return urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2).status == 200
            except OSError:
                assert process.poll() is None, f"{command} exited with {process.returncode}"
                return False

        wait_until(answers, 240, f"{command} to answer", poll=2)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stopped() -> bool:  # no webserver left behind: the command stops what it started
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2)
            return False
        except OSError:
            return True

    wait_until(stopped, 60, f"{command} to stop serving", poll=2)


def test_every_readme_command_runs_as_written_in_a_fresh_shell(fresh):
    root, env = fresh
    tried = {"make demo"}
    for block in readme_commands():
        runnable = [c for c in block if c not in NOT_RUN and c not in tried]
        for command in [c for c in runnable if c in SERVERS]:
            _serve(command, SERVERS[command], env)
            tried.add(command)
        script = [c for c in runnable if c not in SERVERS]
        if not script:
            continue
        if any(c.startswith("make rollback VERSION=") for c in script):  # the README's example names a version
            versions = sorted(p.name for p in (root / "data" / "published" / "versions").glob("warehouse_*.duckdb"))
            script = [
                re.sub(r"VERSION=\S+", f"VERSION={versions[0]}", c) if c.startswith("make rollback") else c
                for c in script
            ]
        done = _run("set -e\n" + "\n".join(script), root, env)
        assert done.returncode == 0, (script, done.stdout[-3000:], done.stderr[-3000:])
        assert "which is not set" not in done.stdout + done.stderr
        if any(c.startswith(".venv/bin/duckdb") for c in script):
            assert re.search(r"2019\s*│\s*0\.6711", done.stdout), done.stdout  # the figures the README says
        if any(c.startswith("make end-rollback") for c in script):
            assert "the rollback has ended" in done.stdout
        tried.update(block)
    every = {c for block in readme_commands() for c in block}
    assert every - set(NOT_RUN) <= tried, every - set(NOT_RUN) - tried
