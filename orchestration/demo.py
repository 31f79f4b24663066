"""The main command: generate the demo extracts, run nightly_refresh once, print what was published.

Runs against the project-local DAGSTER_HOME (set by the Makefile), so `make ui` afterwards
shows this run, its materialisations and its check results.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
from dotenv import load_dotenv

from ingest.config import REPO_ROOT, WarehousePaths
from ingest.generate import generate_all


def _summarise(result: dg.ExecuteInProcessResult, published: Path) -> None:
    print("\nChecks:")
    for evaluation in sorted(result.get_asset_check_evaluations(), key=lambda e: (e.asset_key.to_user_string(), e.check_name)):
        verdict = "PASS" if evaluation.passed else f"FAIL ({evaluation.severity.value})"
        print(f"  {verdict:<12} {evaluation.asset_key.to_user_string()} :: {evaluation.check_name}")
    if not published.exists():
        print("\nNothing has been published yet.")
        return
    print(f"\nPublished database: {published} -> {published.resolve().name}")
    with duckdb.connect(str(published), read_only=True) as con:
        for mart, kpi, version, passed, latest_passed, failures in con.execute(
            """select mart, kpi, version_run_id, checks_passed, latest_attempt_passed, latest_attempt_failures
               from marts.publication_log order by kpi, mart"""
        ).fetchall():
            rows = con.execute(f"select count(*) from marts.{mart}").fetchone()[0]
            state = "published" if latest_passed else f"HELD BACK (last good version kept): {failures}"
            print(f"  marts.{mart:<32} {rows:>7} rows  version {version[:8]}  {state}")
        print("\nCall-center answer rates, April-October (published 67.1% / 67.3%; appointment line 51.7% / 64.1%):")
        for fy, overall, appointment in con.execute(
            """select fiscal_year,
                      sum(calls_answered) / sum(calls_offered),
                      sum(calls_answered) filter (is_appointment_line) / sum(calls_offered) filter (is_appointment_line)
               from marts.call_center_monthly where month(month) between 4 and 10 group by 1 order by 1"""
        ).fetchall():
            print(f"  FY{fy}: all dials {overall:.1%}, appointment line {appointment:.1%}")
        _print_reconciliation(con, "call_center_reconciliation")

        print("\nNational Pension payment rates (published: FY2019 69.3%, Okinawa 55.4%; 30 Sep 2020 64.3%, Okinawa 48.1%):")
        for fy, as_of, national, okinawa in con.execute(
            """select premium_fiscal_year, as_of,
                      sum(months_paid) / sum(months_due),
                      sum(months_paid) filter (prefecture_code = '47') / sum(months_due) filter (prefecture_code = '47')
               from marts.np_payment_rate
               where (premium_fiscal_year, as_of) in ((2019, date '2020-04-30'), (2020, date '2020-09-30'))
               group by all order by 1"""
        ).fetchall():
            print(f"  FY{fy} premiums as of {as_of}: nationwide {national:.2%}, Okinawa {okinawa:.1%}")
        _print_reconciliation(con, "np_payment_rate_reconciliation")

        print("\nEmployer contributions at 30 September 2020 (published: 厚生年金保険 96.1% / 97.9% without the deferral):")
        for name, rate, excl, arrears, deferred in con.execute(
            """select insurance_name_ja, collection_rate, collection_rate_excl_deferral, arrears_yen, deferred_yen
               from marts.employer_collection where as_of = date '2020-09-30' order by determined_yen desc"""
        ).fetchall():
            print(f"  {name}: collection rate {rate:.1%} ({excl:.1%} without the deferral), arrears {arrears / 1e8:,.2f} 億円 "
                  f"of which {deferred / 1e8:,.2f} 億円 deferred")
        for as_of, covered, delinquent, share in con.execute(
            """select as_of, covered_establishments, delinquent_establishments, delinquent_share
               from marts.delinquent_establishments where as_of in (date '2020-03-31', date '2020-09-30') order by 1"""
        ).fetchall():
            print(f"  {as_of}: {delinquent:,} of {covered:,} covered establishments delinquent ({share:.1%})")
        _print_reconciliation(con, "employer_reconciliation")


def _print_reconciliation(con: duckdb.DuckDBPyConnection, table: str) -> None:
    statuses = con.execute(f"select status, count(*) from marts.{table} group by 1 order by 1").fetchall()
    print("  reconciliation against the report: " + ", ".join(f"{n} {s}" for s, n in statuses))


def main() -> int:
    load_dotenv(REPO_ROOT / "defaults.env", override=False)  # the environment wins
    # The demo delivered its files whole (each written under a temporary name, then renamed),
    # so nothing needs to settle before it is taken.
    os.environ["WAREHOUSE_SETTLE_SECONDS"] = "0"
    from orchestration.definitions import (
        defs,  # after the settings: resources read EnvVar at run time
    )

    paths = WarehousePaths(Path(os.environ["WAREHOUSE_DATA_DIR"]).resolve())
    started = time.monotonic()
    generate_all(paths, float(os.environ["WAREHOUSE_SCALE"]), int(os.environ["WAREHOUSE_SEED"]))
    print(f"Generated in {time.monotonic() - started:.1f}s\n\nRunning nightly_refresh ...", flush=True)
    result = defs.resolve_job_def("nightly_refresh").execute_in_process(
        instance=dg.DagsterInstance.get(), raise_on_error=False
    )
    _summarise(result, paths.published_db)
    print(f"\nnightly_refresh {'succeeded' if result.success else 'FAILED'} in {time.monotonic() - started:.1f}s total "
          f"(run {result.run_id}); open the UI with `make ui` to inspect it.")
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
