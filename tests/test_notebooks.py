"""Analyst notebooks run top to bottom against a freshly published database, and show its numbers.

For each notebook: the figures it prints are the published marts' (and the report's), the frame
each chart is drawn from equals the marts, every chart was drawn as an image, and no cell warned
about a missing glyph (Japanese labels would be empty boxes).
"""

import io
import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.conftest import query

pytestmark = pytest.mark.pipeline  # real processes: make test-fast leaves this file out


NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def execute(name: str, frame: str | None = None, more_frames: tuple[str, ...] = ()) -> dict:
    """Run a notebook; its printed text, its images (PNG bytes), its stderr, ``frame`` as rows
    (and each of ``more_frames`` under ``frames``)."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    for each in (frame, *more_frames) if frame else ():  # appended by the test only: a chart's data
        notebook.cells.append(nbformat.v4.new_code_cell(f"print('FRAME {each} ' + {each}.write_json())"))
    NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    streams = [o for o in outputs if o.get("output_type") == "stream"]
    shown = "\n".join(str(o.get("data", {}).get("text/plain", "")) + o.get("text", "") for o in outputs)
    import base64

    result = {
        "text": shown,
        "images": [base64.b64decode(o["data"]["image/png"]) for o in outputs if "image/png" in o.get("data", {})],
        "stderr": "".join(o["text"] for o in streams if o["name"] == "stderr"),
    }
    frames = {
        line.split(" ", 2)[1]: json.loads(line.split(" ", 2)[2])
        for line in shown.splitlines()
        if line.startswith("FRAME ")
    }
    if frame:
        result["frame"] = frames[frame]
        result["frames"] = frames
    return result


def _assert_drawn(result: dict, count: int) -> None:
    from PIL import Image

    assert len(result["images"]) == count
    for png in result["images"]:
        image = Image.open(io.BytesIO(png)).convert("RGB")
        assert image.width > 400 and image.height > 250
        assert len(set(image.get_flattened_data())) > 50  # axes, lines and text, not a blank canvas
    assert (
        "Glyph" not in result["stderr"] and "missing from" not in result["stderr"]
    )  # matplotlib's missing-glyph warning


def test_every_notebook_shows_the_published_figures_and_draws_its_charts(published):
    calls = execute("call_center_answer_rates.ipynb", frame="monthly")
    _assert_drawn(calls, 1)
    rates = dict(
        query(
            published,
            """select fiscal_year, sum(calls_answered)::double / sum(calls_offered)
                                     from marts.call_center_monthly where month(month) between 4 and 10 group by 1""",
        )
    )
    assert f"{rates[2019]:.1%}" == "67.1%" and f"{rates[2020]:.1%}" == "67.3%"  # the report's
    assert "4～10月 応答率 FY2019: 67.1%" in calls["text"] and "4～10月 応答率 FY2020: 67.3%" in calls["text"]
    monthly = {
        (r[0], r[1]): r[2]
        for r in query(
            published,
            """select fiscal_year, month(month),
               sum(calls_answered)::double / sum(calls_offered) from marts.call_center_monthly group by all""",
        )
    }
    plotted = {(r["fiscal_year"], r["calendar_month"]): r["answer_rate"] for r in calls["frame"]}
    assert plotted == pytest.approx(monthly)
    assert (
        max(plotted.values()) - min(plotted.values()) > 0.2
    )  # the chart is not a flat line (it once drew 100% throughout)
    assert "予約受付専用ダイヤル" in calls["text"] and "call_center_monthly" in calls["text"]

    pension = execute("np_payment_rates.ipynb", frame="curve", more_frames=("three",))
    _assert_drawn(pension, 3)  # the three rates over the years, the FY2019 vs FY2020 curves, the prefecture ranking
    # 国民年金適用・収納対策業務の状況 as printed, and the chart's rates the mart's
    table = {
        (r[0], r[1]): r[2:]
        for r in query(
            published,
            """select fiscal_year, period, final_rate_percent, past_year_rate_percent, current_year_rate_percent,
                      insured_persons from marts.national_pension_coverage_and_collection""",
        )
    }
    assert f"{table[(2012, 'fiscal_year_end')][3]:,} 人" == "186,375 人"  # 18,637,478 at 1/100
    assert all(
        text in pension["text"]
        for text in ("186,375 人", "(-2.1%)", "64.5%", "2020年9月末", "(+10.0%)", "203,579 件", "33.5%")
    )
    plotted = {(r["fiscal_year"], r["rate"]): r["percent"] for r in pension["frames"]["three"]}
    assert len(plotted) == 3 * 8  # FY2012 to FY2019, three rates each
    assert plotted[(2012, "最終納付率")] == pytest.approx(table[(2012, "fiscal_year_end")][0])
    assert f"{plotted[(2019, '現年度納付率')]:.1f}" == "69.3" and f"{plotted[(2012, '最終納付率')]:.1f}" == "64.5"
    [(national,)] = query(
        published,
        """select sum(months_paid)::double / sum(months_due) from marts.national_pension_payment_rate
                                         where premium_fiscal_year = 2019 and as_of = date '2020-04-30'""",
    )
    assert f"{national:.1%}" == "69.3%" and "2019年度 現年度納付率（全国）: 69.3%" in pension["text"]
    curve = {
        (r[0], str(r[1])): r[2]
        for r in query(
            published,
            """select premium_fiscal_year, as_of,
             sum(months_paid)::double / sum(months_due) from marts.national_pension_payment_rate
             where premium_fiscal_year in (2019, 2020) and as_of <= make_date(premium_fiscal_year + 1, 4, 30) group by all""",
        )
    }
    assert {(r["premium_fiscal_year"], r["as_of"]): r["payment_rate"] for r in pension["frame"]} == pytest.approx(curve)
    assert len(curve) == 12 + 5  # FY2019: May end .. April end; FY2020: May end .. September end
    assert "沖縄県" in pension["text"] and "national_pension_payment_rate" in pension["text"]
    [(sent, before)] = query(
        published,
        """select sum(actions), sum(actions_previous_year) from marts.national_pension_collection_actions
           where fiscal_year = 2020 and fiscal_half = 'H1' and action_code = '1'""",
    )
    # the action plan table's 特別催告状 2,050,840 against 3,307,316 (62.0%), at 1/100; the contractor's calls
    assert (sent, before) == (20_508, 33_073) and f"{sent / before:.1%}" == "62.0%"
    assert all(text in pension["text"] for text in ("特別催告状", "20,508", "33,073", "62.0%", "107.3%", "197,795"))

    employer = execute("employer_arrears.ipynb", frame="collection")
    _assert_drawn(employer, 1)
    september = {
        name: (rate, excluded)
        for name, rate, excluded in query(
            published,
            """select insurance_name_ja,
                 collection_rate, collection_rate_excl_deferral from marts.employer_collection where as_of = date '2020-09-30'""",
        )
    }
    assert f"{september['厚生年金保険'][0]:.1%} {september['厚生年金保険'][1]:.1%}" == "96.1% 97.9%"
    assert "厚生年金保険 収納率 2020年9月末: 96.1%（納付猶予の特例分を除くと 97.9%）" in employer["text"]
    plotted = {(r["insurance_name_ja"], r["as_of"]): r["collection_rate"] for r in employer["frame"]}
    assert plotted[("厚生年金保険", "2020-09-30")] == pytest.approx(september["厚生年金保険"][0])
    assert {r["fiscal_year"] for r in employer["frame"]} == {2019, 2020}  # one line each: years do not run together
    assert "employer_collection" in employer["text"]


def test_a_notebook_without_a_published_database_says_what_to_run(tmp_path, monkeypatch):
    missing = tmp_path / "published" / "warehouse.duckdb"
    monkeypatch.setenv("WAREHOUSE_PUBLISHED_DB", str(missing))
    with pytest.raises(
        CellExecutionError, match=f"no published database at {missing}: run make demo \\(or the nightly job\\) first"
    ):
        execute("call_center_answer_rates.ipynb")


def test_the_readme_cli_example_prints_the_published_rates(published):
    import re
    import subprocess

    readme = (NOTEBOOKS.parent / "README.md").read_text(encoding="utf-8")
    [example] = re.findall(
        r"```bash\n(\.venv/bin/duckdb -readonly data/published/warehouse\.duckdb.*?)```", readme, flags=re.S
    )
    command = example.replace("data/published/warehouse.duckdb", str(published))
    done = subprocess.run(["bash", "-c", command], cwd=NOTEBOOKS.parent, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr  # the installed CLI reads the published storage format
    assert re.search(r"2019\s*│\s*0\.6711", done.stdout) and re.search(r"2020\s*│\s*0\.6727", done.stdout), done.stdout


def test_make_notebooks_report_runs_every_notebook_into_html(published, tmp_path):
    """The headless report: each notebook executed, as HTML with its figures and charts."""
    import subprocess

    env = {**os.environ, "WAREHOUSE_DATA_DIR": str(tmp_path / "data"), "WAREHOUSE_PUBLISHED_DB": str(published)}
    done = subprocess.run(
        ["make", "-s", "notebooks-report"], cwd=NOTEBOOKS.parent, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    reports = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "data" / "reports").glob("*.html")}
    assert set(reports) == {p.with_suffix(".html").name for p in NOTEBOOKS.glob("*.ipynb")}
    assert "4～10月 応答率 FY2020: 67.3%" in reports["call_center_answer_rates.html"]
    assert "デモ規模 1/100 · demo scale" in reports["employer_arrears.html"]
    assert all(html.count("data:image/png;base64,") >= 1 for html in reports.values())  # the charts drawn
    assert "…" not in reports["np_payment_rates.html"]  # the 47 prefectures whole, not truncated


def test_jupyterlab_saves_a_notebook_without_its_outputs(tmp_path):
    """`make notebooks`' save hook, in a real Jupyter server: a notebook saved with outputs is written without."""
    import subprocess
    import time
    import urllib.request

    from tests.smtp import free_port

    port, token = free_port(), "t0ken"
    folder = tmp_path / "nb"
    folder.mkdir()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("jupyter")),
            "server",
            f"--port={port}",
            "--ip=127.0.0.1",
            f"--ServerApp.root_dir={folder}",
            f"--IdentityProvider.token={token}",
            "--ContentsManager.pre_save_hook=analytics.notebook_hooks.strip_outputs",
            "--allow-root",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
        notebook.cells[0].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)]
        notebook.cells[0].execution_count = 1
        body = json.dumps({"type": "notebook", "format": "json", "content": notebook}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/contents/saved.ipynb?token={token}", data=body, method="PUT"
        )
        request.add_header("Content-Type", "application/json")
        for _ in range(120):
            try:
                urllib.request.urlopen(request, timeout=5)
                break
            except OSError:
                time.sleep(0.5)
        saved = nbformat.read(folder / "saved.ipynb", as_version=4)
        assert saved.cells[0].source == "1 + 1"
        assert saved.cells[0].outputs == [] and saved.cells[0].execution_count is None
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
