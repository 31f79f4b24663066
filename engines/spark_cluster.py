"""A Spark standalone cluster on this machine, from the pyspark package's own jars (no download).

``start`` launches a master, two workers (one core each) and the Spark Thrift server, whose
driver runs its queries on the workers; dbt's ``spark_cluster`` target reaches it through
``method: thrift`` on 127.0.0.1. Everything listens on loopback only. ``stop`` ends them.

The Thrift server keeps its metastore and tables where the in-process ``spark`` target does
(``<data dir>/spark``), so the engine's tables are found in the same place by whichever target
built them; its Derby metastore has one writer, so the two targets are not used at once.

What each process prints goes to ``<data dir>/spark/cluster/<name>.log``; their pids to
``pids.json`` there, which ``stop`` reads. The Thrift server's event log (every task and the
executor it ran on) is kept in ``events/``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from config.layout import SPARK_HOST, WarehousePaths

HOST = SPARK_HOST
MASTER_PORT = 7077
MASTER_UI_PORT = 8090  # not Spark's 8080, which other local tools take
WORKER_UI_PORTS = (8091, 8092)
WORKER_CORES = 1
WORKER_MEMORY = "2g"
DRIVER_UI_PORT = 4050  # the Thrift server's application UI and REST API (/api/v1)


class ClusterError(RuntimeError):
    pass


@dataclass(frozen=True)
class Cluster:
    folder: Path  # <data dir>/spark/cluster
    thrift_port: int

    @property
    def master_url(self) -> str:
        return f"spark://{HOST}:{MASTER_PORT}"

    @property
    def pids_file(self) -> Path:
        return self.folder / "pids.json"

    @property
    def event_log(self) -> Path:
        return self.folder / "events"

    def master_status(self) -> dict:
        """The master's JSON status: its workers (state, cores used) and applications."""
        with urllib.request.urlopen(f"http://{HOST}:{MASTER_UI_PORT}/json/", timeout=5) as response:
            return json.load(response)

    def executors(self) -> list[dict]:
        """The Thrift server application's executors, from its REST API (completed tasks, host)."""
        base = f"http://{HOST}:{DRIVER_UI_PORT}/api/v1/applications"
        with urllib.request.urlopen(base, timeout=5) as response:
            [application] = json.load(response)
        with urllib.request.urlopen(f"{base}/{application['id']}/allexecutors", timeout=5) as response:
            return json.load(response)


def spark_home() -> Path:
    """pyspark's package folder: Spark's bin/ and jars/ (make setup-spark installs it)."""
    # found, not imported: importing pyspark in a long-lived process (a test worker) is not free
    spec = importlib.util.find_spec("pyspark")
    if spec is None or spec.origin is None:
        raise ClusterError("pyspark is not installed: run make setup-spark")
    return Path(spec.origin).parent


def cluster(paths: WarehousePaths, thrift_port: int) -> Cluster:
    return Cluster(paths.spark_dir / "cluster", thrift_port)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


def _wait(what: str, ready, seconds: float, logs: list[Path]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(1)
    tails = "\n".join(
        f"--- {log.name}:\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:]) for log in logs
    )
    raise ClusterError(f"{what} not ready after {seconds:.0f} s\n{tails}")


def start(paths: WarehousePaths, thrift_port: int, driver_memory: str, timeout: float = 180) -> Cluster:
    """Start the master, two workers and the Thrift server; return once the Thrift server answers."""
    found = cluster(paths, thrift_port)
    if found.pids_file.exists():
        raise ClusterError(f"a cluster of this data directory is running (or was not stopped): {found.pids_file}")
    busy = [p for p in (MASTER_PORT, MASTER_UI_PORT, *WORKER_UI_PORTS, DRIVER_UI_PORT, thrift_port) if _listening(p)]
    if busy:
        raise ClusterError(f"ports already in use on {HOST}: {busy} (another cluster? make spark-cluster-stop)")
    home = spark_home()
    found.folder.mkdir(parents=True, exist_ok=True)
    found.event_log.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": HOST,  # loopback only, whatever the machine's name resolves to
        "SPARK_LOG_DIR": str(found.folder),
        "SPARK_WORKER_DIR": str(found.folder / "work"),
    }
    pids: dict[str, int] = {}

    def launch(name: str, command: list[str]) -> Path:
        log = found.folder / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=found.folder, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        pids[name] = process.pid
        found.pids_file.write_text(json.dumps(pids))
        return log

    try:
        spark_class = str(home / "bin" / "spark-class")
        master_log = launch(
            "master",
            [spark_class, "org.apache.spark.deploy.master.Master", "--host", HOST, "--port", str(MASTER_PORT),
             "--webui-port", str(MASTER_UI_PORT)],
        )  # fmt: skip
        _wait("the master", lambda: _listening(MASTER_PORT), timeout, [master_log])
        logs = [master_log]
        for number, ui_port in enumerate(WORKER_UI_PORTS, start=1):
            logs.append(
                launch(
                    f"worker{number}",
                    [
                        spark_class,
                        "org.apache.spark.deploy.worker.Worker",
                        found.master_url,
                        "--host",
                        HOST,
                        "--cores",
                        str(WORKER_CORES),
                        "--memory",
                        WORKER_MEMORY,
                        "--webui-port",
                        str(ui_port),
                        "--work-dir",
                        str(found.folder / f"work{number}"),
                    ],
                )  # fmt: skip
            )

        def workers_alive() -> bool:
            try:
                return sum(w["state"] == "ALIVE" for w in found.master_status()["workers"]) == len(WORKER_UI_PORTS)
            except OSError:
                return False

        _wait("two workers", workers_alive, timeout, logs)
        conf = {
            "spark.sql.warehouse.dir": str(paths.spark_warehouse),
            "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={paths.spark_metastore};create=true",
            "spark.driver.extraJavaOptions": f"-Dderby.system.home={paths.spark_dir}",
            "spark.driver.memory": driver_memory,
            "spark.executor.memory": "1g",
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.shuffle.partitions": "4",
            "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
            "spark.eventLog.enabled": "true",
            "spark.eventLog.dir": f"file://{found.event_log}",
            "spark.ui.port": str(DRIVER_UI_PORT),
            "spark.driver.host": HOST,
        }
        command = [str(home / "bin" / "spark-submit"), "--master", found.master_url,
                   "--class", "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"]  # fmt: skip
        for key, value in conf.items():
            command += ["--conf", f"{key}={value}"]
        command += ["--hiveconf", f"hive.server2.thrift.port={thrift_port}"]
        command += ["--hiveconf", f"hive.server2.thrift.bind.host={HOST}", "spark-internal"]
        logs.append(launch("thriftserver", command))
        _wait("the Thrift server", lambda: _listening(thrift_port), timeout, logs)
    except BaseException:
        stop(paths, thrift_port)
        raise
    return found


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs: gone, or a zombie (ended; reaped here when this process started it), is not."""
    with contextlib.suppress(ChildProcessError):  # not this process's child: its parent (or init) reaps it
        os.waitpid(pid, os.WNOHANG)
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def stop(paths: WarehousePaths, thrift_port: int, timeout: float = 60) -> list[str]:
    """End every process ``start`` launched (the Thrift server first, then workers, then the master)."""
    found = cluster(paths, thrift_port)
    if not found.pids_file.exists():
        return []
    pids: dict[str, int] = json.loads(found.pids_file.read_text())
    stopped = []
    for name in sorted(pids, key=lambda n: ("thriftserver", "worker1", "worker2", "master").index(n)):
        try:
            os.killpg(pids[name], signal.SIGTERM)  # its own session: the JVM and the launcher script
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + timeout
        while _alive(pids[name]) and time.monotonic() < deadline:
            time.sleep(0.5)
        if _alive(pids[name]):
            os.killpg(pids[name], signal.SIGKILL)
        stopped.append(name)
    found.pids_file.unlink()
    return stopped
