"""The dashboard shows the published marts' figures (Streamlit's AppTest), and serves them to a real browser."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from config.kpis import KPIS
from config.layout import REPO_ROOT
from publication import version_files
from tests.browser import SHOTS, chromium_context, screenshot_page, screenshot_streamlit, wait_for_http
from tests.conftest import query
from tests.smtp import free_port

pytestmark = pytest.mark.pipeline  # real processes: make test-fast leaves this file out

PAGES = REPO_ROOT / "dashboard" / "views"


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
    by_dial = calls.dataframe[1].value.set_index("ダイヤル dial code")
    assert (
        by_dial.loc["appointment", "2019年度 FY2019"] == "51.7%"
        and by_dial.loc["appointment", "2020年度 FY2020"] == "64.1%"
    )
    monthly = calls.dataframe[0].value
    assert len(monthly) == 7 and monthly["応答率 2019年度 answer rate, FY2019"].nunique() == 7  # a rate per month
    assert monthly["受電数 2019年度 calls offered, FY2019"].str.fullmatch(r"\d{1,3}(,\d{3})+").all()  # separators
    calls.selectbox[0].select("appointment").run()  # the dial filter
    assert _metrics(calls)["4～10月 2020年度"] == ("64.1%", "+12.4 ポイント")

    pension = _page("national_pension")
    # 国民年金適用・収納対策業務の状況 as printed: FY2012 to FY2019 and the two Septembers, each value
    # the mart's, each change beneath it
    table = pension.dataframe[0].value.set_index("事項 item")
    assert list(table.columns) == [
        *(f"{y}年度" for y in range(2012, 2020)),
        "2019年9月末",
        "2020年9月末",
    ]
    [(insured, final_2010, exempt_rate)] = query(
        published,
        """select insured_persons, final_rate_percent, full_exemption_rate_percent
           from marts.national_pension_coverage_and_collection where as_of = date '2013-03-31'""",
    )
    assert table.iloc[0]["2012年度"] == f"{insured:,} 人" == "186,375 人"  # 18,637,478 at 1/100
    assert table.iloc[1]["2012年度"] == "(-2.1%)"
    assert table.loc["最終納付率", "2012年度"] == f"{final_2010:.1f}%" == "64.5%"  # premium FY2010's
    assert table.loc["全額免除率", "2019年9月末"] == "33.4%" and f"{exempt_rate:.1f}%" == "32.0%"
    assert table.loc["現年度納付率", "2020年9月末"] == "64.3%" and table.iloc[13]["2020年9月末"] == "(+2.7%)"
    [(multi,)] = query(
        published,
        "select multi_payments from marts.national_pension_coverage_and_collection where as_of = date '2020-03-31'",
    )
    assert table.loc["マルチペイメント利用状況", "2019年度"] == f"{multi:,} 件" == "203,579 件"  # 20,357,934 at 1/100
    assert table.loc["口座振替実施率", "2019年度"] == "33.5%" and table.loc["クレジット実施率", "2020年9月末"] == "4.4%"
    assert table.iloc[19]["2012年度"] == "(+7.3%)"  # multi-payment use on FY2011
    assert any("デモ規模 1/100" in c.value for c in pension.caption)
    curve = pension.dataframe[1].value.set_index("月末 month end")
    assert curve.loc["4月末", "2019年度分 premium year 2019"] == "69.25%"  # the curve at 0.01 point, as the report
    assert curve.loc["9月末", "2020年度分 premium year 2020"] == "64.32%"
    kinds = pension.dataframe[2].value
    rows = {(r[0], r[1]): (r[2], r[3], r[4]) for r in kinds.itertuples(index=False)}
    assert rows[("2017", "最終納付率")] == ("2020-03-31", "いいえ no", "76.3%")
    assert rows[("2018", "最終納付率")] == ("2020-09-30", "はい yes", "76.3%")  # the report's FY2018 final, so far
    assert rows[("2017", "過年度１年目納付率")][2] == "73.4%"
    ranking = pension.dataframe[3].value
    assert len(ranking) == 47 and ranking.iloc[-1]["都道府県 prefecture"] == "沖縄県"
    assert ranking.iloc[-1]["2019年度 現年度納付率 FY2019 current-year rate"] == "55.4%"
    assert ranking.iloc[-1]["対前年同期 change on a year before, points"] == "+5.7"
    actions = {(r[0], r[1], r[2]): r[3:] for r in pension.dataframe[4].value.itertuples(index=False)}
    [(sent, before)] = query(
        published,
        """select sum(actions), sum(actions_previous_year) from marts.national_pension_collection_actions
           where fiscal_year = 2020 and fiscal_half = 'H1' and action_code = '1'""",
    )
    # the report's 特別催告状 2,050,840 against 3,307,316 (62.0%), at 1/100
    assert (
        actions[("2020", "H1", "特別催告状")] == (f"{sent:,}", f"{before:,}", "62.0%") == ("20,508", "33,073", "62.0%")
    )
    assert actions[("2020", "H1", "督促状")] == ("0", "415", "0.0%")  # stopped in 2020: a zero, shown
    assert actions[("2019", "H1", "差押執行")][1] == "—"  # no half a year before the extracts
    contractor = {r[2]: r[3:] for r in pension.dataframe[5].value.itertuples(index=False)}
    assert contractor["電話勧奨"] == ("95,744", "102,741", "107.3%", "197,795")  # 9,574,410 / 10,274,052 / 107.3%
    assert contractor["戸別訪問"][2] == "0.0%"
    pension.selectbox[0].select("47").run()  # the prefecture filter: Okinawa's own table and curve
    assert pension.dataframe[0].value.set_index("事項 item").loc["現年度納付率", "2019年度"] == "55.4%"
    assert (
        pension.dataframe[1].value.set_index("月末 month end").loc["9月末", "2020年度分 premium year 2020"] == "48.10%"
    )

    employer = _page("employer")
    shown = _metrics(employer)
    assert shown["厚生年金保険 収納率 2020年9月末"][0] == "96.1%"
    assert shown["納付猶予の特例分を除く Without the special deferral"][0] == "97.9%"
    # At the demo's scale the amount says so: 30.4 億円 is 1/100 of the report's 3,043 億円.
    assert shown["納付猶予（特例）許可中 Deferred（デモ規模 1/100）"][0] == "30.4 億円"
    assert any("デモ規模 1/100 · demo scale" in c.value for c in employer.caption)
    assert set(employer.dataframe[0].value["年度 fiscal year"]) == {"2019", "2020"}
    delinquent = employer.dataframe[1].value
    assert delinquent["時点 as of"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()  # dates, not a midnight
    assert delinquent["滞納割合 delinquent share"].str.fullmatch(r"\d+\.\d%").all()

    reconciliation = _page("reconciliation")
    [known] = reconciliation.info
    assert known.value.startswith("既知の相違 known discrepancy: cc_fy2019_apr_oct_offered_summary")
    assert (
        len(reconciliation.dataframe[0].value)
        == query(published, "select count(*) from marts.call_center_reconciliation")[0][0]
    )
    assert not (reconciliation.dataframe[0].value == "None").any().any()


def _labels(page: AppTest) -> set[str]:
    return {c for table in page.dataframe for c in table.value.columns}


def _clean(page: AppTest, what: str) -> None:
    assert not page.exception, (what, [e.value for e in page.exception])
    for table in page.dataframe:
        frame = table.value
        assert not (frame == "None").any().any(), f"{what}: a cell shows None"
        for label in frame.columns:  # Japanese, then English
            assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", label) or label.startswith("KPI"), (what, label)


def _rate(answered: float, offered: float) -> str:
    return f"{answered / offered:.1%}"


def test_every_page_holds_under_every_filter_value(published):
    """Each filter through every value, each multi-select empty, one by one and whole: no page
    raises, and what each shows is the marts' figures for that choice."""
    dials = [
        None,
        *(d for (d,) in query(published, "select distinct dial_code from marts.call_center_monthly order by 1")),
    ]
    years = [y for (y,) in query(published, "select distinct fiscal_year from marts.call_center_monthly order by 1")]
    calls = _page("call_center")
    assert len(calls.selectbox[0].options) == len(dials)
    for index, dial in enumerate(dials):
        for chosen in ([], *([y] for y in years), years):
            calls.selectbox[0].select_index(index)
            calls.multiselect[0].set_value(chosen).run()
            what = f"call_center dial={dial} years={chosen}"
            _clean(calls, what)
            if not chosen:
                assert calls.info and not calls.metric, what
                continue
            rows = query(
                published,
                """select fiscal_year, sum(calls_answered), sum(calls_offered) from marts.call_center_monthly
                   where month(month) between 4 and 10 and dial_code = coalesce(?, dial_code) and list_contains(?, fiscal_year)
                   group by all order by 1""",
                [dial, chosen],
            )
            if not rows:  # a dial opened later than every chosen year
                assert calls.info and not calls.metric, what
                continue
            shown = _metrics(calls)
            for year, answered, offered in rows:
                assert shown[f"4～10月 {year}年度"][0] == _rate(answered, offered), what

    prefectures = [
        p for (p,) in query(published, "select distinct prefecture_name_ja from marts.national_pension_payment_rate")
    ]
    pension = _page("national_pension")
    codes = [
        None,
        *(
            c
            for (c,) in query(
                published, "select distinct prefecture_code from marts.national_pension_payment_rate order by 1"
            )
        ),
    ]
    assert len(pension.selectbox[0].options) == len(codes)
    for index, code in enumerate(codes):
        pension.selectbox[0].select_index(index).run()
        _clean(pension, f"national_pension prefecture #{index}")
        [(current,)] = query(
            published,
            """select sum(months_paid)::double / sum(months_due) from marts.national_pension_coverage_and_collection_by_prefecture
               where as_of = date '2020-03-31' and prefecture_code = coalesce(?, prefecture_code)""",
            [code],
        )
        table = pension.dataframe[0].value.set_index("事項 item")
        assert len(table) == 20 and table.loc["現年度納付率", "2019年度"] == f"{current:.1%}", code
        assert len(pension.dataframe[1].value) == 12
    for chosen in ([], *([p] for p in prefectures), prefectures):
        pension.multiselect[0].set_value(chosen).run()
        _clean(pension, f"national_pension ranking {chosen[:2]}")
        assert len(pension.dataframe[3].value) == (len(chosen) or 47)

    insurances = [i for (i,) in query(published, "select distinct insurance_name_ja from marts.employer_collection")]
    employer_years = [
        y for (y,) in query(published, "select distinct fiscal_year from marts.employer_collection order by 1")
    ]
    employer = _page("employer")
    assert sorted(employer.selectbox[0].options) == sorted(insurances)
    for insurance in insurances:
        for chosen in ([], *([y] for y in employer_years), employer_years):
            employer.selectbox[0].select(insurance)
            employer.multiselect[0].set_value(chosen).run()
            what = f"employer {insurance} {chosen}"
            _clean(employer, what)
            if not chosen:
                assert employer.info and not employer.dataframe, what
                continue
            [(count,)] = query(
                published,
                "select count(*) from marts.employer_collection where insurance_name_ja = ? and list_contains(?, fiscal_year)",
                [insurance, chosen],
            )
            assert len(employer.dataframe[0].value) == count, what

    statuses = ["match", "known_discrepancy", "mismatch"]
    reconciliation = _page("reconciliation")
    for index in range(len(reconciliation.selectbox[0].options)):
        for chosen in ([], *([s] for s in statuses), statuses):
            reconciliation.selectbox[0].select_index(index)
            reconciliation.multiselect[0].set_value(chosen).run()
            what = f"reconciliation #{index} {chosen}"
            _clean(reconciliation, what)
            kpi = KPIS[index]
            [(count,)] = query(
                published, f"select count(*) from marts.{kpi.reconciliation} where list_contains(?, status)", [chosen]
            )
            shown = reconciliation.dataframe[0].value if reconciliation.dataframe else []
            assert len(shown) == count, what
            if not count:
                assert reconciliation.info, f"{what}: an empty choice says so in words"

    overview = _page("overview")
    _clean(overview, "overview")
    assert list(overview.dataframe[1].value.columns) == [
        "KPI KPI",
        "一致 match",
        "既知の相違 known discrepancy",
        "不一致 mismatch",
    ]


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
        ],  # address, headless, no usage statistics, viewer toolbar: .streamlit/config.toml, as make dashboard
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
                page = screenshot_streamlit(browser, f"{base}/{path}", f"dashboard_{name}", expect)
                text = page.inner_text("body")
                assert "Traceback" not in text and "Error" not in text, text[:2000]
                assert "Deploy" not in text  # viewer mode (.streamlit/config.toml): no developer toolbar
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
