"""``make spark-cluster`` / ``make spark-cluster-stop``: the local Spark standalone cluster
(engines.spark_cluster) of this data directory, for ``WAREHOUSE_SPARK_TARGET=spark_cluster``."""

from __future__ import annotations

import sys

from config.settings import SettingError, Settings
from engines import spark_cluster


def main(argv: list[str]) -> int:
    if argv not in (["start"], ["stop"]):
        print("usage: python -m commands.spark_cluster start|stop", file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env()
    except SettingError as err:
        print(err, file=sys.stderr)
        return 2
    if argv == ["stop"]:
        stopped = spark_cluster.stop(settings.paths, settings.spark_thrift_port)
        print(f"stopped: {', '.join(stopped)}" if stopped else "no cluster of this data directory was running")
        return 0
    try:
        cluster = spark_cluster.start(settings.paths, settings.spark_thrift_port, settings.spark_driver_memory)
    except spark_cluster.ClusterError as err:
        print(f"spark-cluster: {err}", file=sys.stderr)
        return 1
    workers = cluster.master_status()["workers"]
    print(
        f"Spark master {cluster.master_url} with {len(workers)} workers (UI http://{spark_cluster.HOST}:{spark_cluster.MASTER_UI_PORT})"
    )
    print(f"Thrift server on {spark_cluster.HOST}:{cluster.thrift_port}; logs in {cluster.folder}")
    print(
        "Run the night on it: WAREHOUSE_ENGINE=spark WAREHOUSE_SPARK_TARGET=spark_cluster make demo (or launch from the UI)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
