"""The dashboard shows the published marts' figures (Streamlit's AppTest), and serves them to a real browser."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from config.layout import REPO_ROOT
from publication import version_files
from tests.browser import SHOTS, chromium_context, screenshot_page, wait_for_http
from tests.conftest import query
from tests.smtp import free_port

pytestmark = pytest.mark.pipeline  # real processes: make test-fast leaves this file out

PAGES = REPO_ROOT / "dashboard" / "pages"


def _page(name: str) -> AppTest:
    page = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=120).run()
    assert not page.exception, [e.value for e in page.exception]
    return page


def _metrics(page: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in page.metric}


def _recomputed(published: Path, table: str, figure_id: str) -> float:
    [(value,)] = query(published, f"select recomputed_value from marts.{table} where figure_id = '{figure_id}'")
    return value


def test_every_page_shows_the_published_figures(published):
    overview = _page("overview")
    shown = _metrics(overview)
    assert (
        shown["応答率 2020年度 4～10月"][0]
        == "67.3%"
        == f"{_recomputed(published, 'call_center_reconciliation', 'cc_fy2020_apr_oct_rate_monthly_table'):.1f}%"
    )
    assert shown["現年度納付率 2019年度"][0] == "69.3%"
    assert shown["厚生年金保険 収納率 2020年9月末"][0] == "96.1%"
    assert "公表値 published 67.3% ・ 一致 match" in [c.value for c in overview.caption]
    assert [s.value for s in overview.success] and not overview.warning  # every KPI published and current
    assert published.resolve().name in overview.caption[1].value  # the version shown

    calls = _page("call_center")
    shown = _metrics(calls)
    assert shown["4～10月 2019年度"] == ("67.1%", "") and shown["4～10月 2020年度"] == ("67.3%", "+0.2 ポイント")
    assert shown["4～7月 2020年度"] == ("58.0%", "-5.9 ポイント") and shown["8～10月 2020年度"] == (
        "83.0%",
        "+12.3 ポイント",
    )
    by_dial = calls.dataframe[1].value.set_index("dial_code")
    assert (
        round(by_dial.loc["appointment", "2019"], 3) == 0.517 and round(by_dial.loc["appointment", "2020"], 3) == 0.641
    )
    monthly = calls.dataframe[0].value
    assert len(monthly) == 7 and monthly["answer_rate_2019"].nunique() == 7  # April-October, a rate per month, not 100%
    calls.selectbox[0].select("appointment").run()  # the dial filter
    assert _metrics(calls)["4～10月 2020年度"] == ("64.1%", "+12.4 ポイント")

    pension = _page("national_pension")
    curve = pension.dataframe[0].value.set_index("月末")
    assert round(curve.loc["4月末", "2019"], 4) == 0.6925 and round(curve.loc["9月末", "2020"], 4) == 0.6432
    kinds = pension.dataframe[1].value.set_index("premium_fiscal_year")
    assert round(kinds.loc[2017, "最終納付率"], 3) == 0.763 and round(kinds.loc[2017, "過年度１年目納付率"], 3) == 0.734
    ranking = pension.dataframe[2].value
    assert len(ranking) == 47 and ranking.iloc[-1]["prefecture_name_ja"] == "沖縄県"
    assert (
        round(ranking.iloc[-1]["fy2019_current_year"], 3) == 0.554
        and round(ranking.iloc[-1]["change_points"], 1) == 5.7
    )
    pension.selectbox[0].select("47").run()  # the prefecture filter: Okinawa's own curve
    assert round(pension.dataframe[0].value.set_index("月末").loc["9月末", "2020"], 3) == 0.481

    employer = _page("employer")
    shown = _metrics(employer)
    assert shown["厚生年金保険 収納率 2020年9月末"][0] == "96.1%"
    assert shown["納付猶予の特例分を除く Without the special deferral"][0] == "97.9%"
    assert set(employer.dataframe[0].value["fiscal_year"]) == {2019, 2020}
    delinquent = employer.dataframe[1].value.set_index("as_of")
    assert delinquent["delinquent_share"].between(0, 1).all()
    for table in employer.dataframe:  # month ends shown as dates, not as a midnight
        assert json.loads(table.proto.columns)["as_of"]["type_config"] == {"type": "date", "format": "YYYY-MM-DD"}

    reconciliation = _page("reconciliation")
    [known] = reconciliation.info
    assert known.value.startswith("既知の相違 known discrepancy: cc_fy2019_apr_oct_offered_summary")
    assert (
        len(reconciliation.dataframe[0].value)
        == query(published, "select count(*) from marts.call_center_reconciliation")[0][0]
    )


def test_an_open_page_sees_the_next_version_and_a_missing_database_says_what_to_run(published, tmp_path, monkeypatch):
    overview = _page("overview")
    assert _metrics(overview)["厚生年金保険 収納率 2020年9月末"][0] == "96.1%"
    # A new version is published while the page is open (here: a copy with one figure changed).
    current = published.resolve()
    newer = current.with_name("warehouse_29991231T000000000000_employer.duckdb")
    shutil.copyfile(current, newer)
    with duckdb.connect(str(newer)) as con:
        con.execute(
            "update marts.employer_reconciliation set recomputed_value = 12.34 where figure_id = 'ec_pension_202009_rate'"
        )
    os.chmod(newer, version_files.PUBLISHED_MODE)
    version_files.point_symlink(published, newer)
    overview.run()  # the next interaction
    assert _metrics(overview)["厚生年金保険 収納率 2020年9月末"][0] == "12.3%"
    assert newer.name in overview.caption[1].value

    monkeypatch.setenv("WAREHOUSE_PUBLISHED_DB", str(tmp_path / "nothing" / "warehouse.duckdb"))
    empty = AppTest.from_file(str(PAGES / "call_center.py"), default_timeout=60).run()
    assert [e.value for e in empty.error] == [
        f"no published database at {tmp_path / 'nothing' / 'warehouse.duckdb'}: run make demo (or the nightly job) first"
    ]
    assert not empty.exception and not empty.metric


def test_the_dashboard_server_renders_every_page_in_a_browser(published):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("streamlit")),
            "run",
            str(REPO_ROOT / "dashboard" / "app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_http(f"{base}/_stcore/health", "streamlit", process=server)
        with chromium_context() as browser:
            for path, name, expect in (
                ("", "overview", "67.3%"),
                ("call_center", "call_center", "4～10月 2020年度"),
                ("national_pension", "national_pension", "納付率（現年度）の推移"),
                ("employer", "employer", "97.9%"),
                ("reconciliation", "reconciliation", "既知の相違"),
            ):
                page = screenshot_page(browser, f"{base}/{path}", f"dashboard_{name}", expect)
                text = page.inner_text("body")
                assert "Traceback" not in text and "Error" not in text, text[:2000]
                page.close()
            # the dbt docs site published beside the database: its front page, and a mart's documented columns
            docs = published.parent / "docs.html"
            page = screenshot_page(browser, docs.resolve().as_uri(), "docs_overview", "Pension operations warehouse")
            page.goto(docs.resolve().as_uri() + "#!/model/model.pension_warehouse.call_center_monthly")
            page.get_by_text("answer_rate").first.wait_for(timeout=60_000)
            page.screenshot(path=str(SHOTS / "docs_call_center_monthly.png"), full_page=True)
            page.close()
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
