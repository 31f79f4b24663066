"""Analyst notebooks run top to bottom against a freshly published database (one nightly run for all)."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def execute(name: str) -> tuple[str, int]:
    """Run a notebook; returns its text outputs and how many images it drew."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    text = "".join(str(o.get("data", {}).get("text/plain", "")) + o.get("text", "") for o in outputs)
    return text, sum("image/png" in o.get("data", {}) for o in outputs)


def test_every_notebook_executes(landed, run_nightly, monkeypatch):
    assert run_nightly().success
    monkeypatch.setenv("WAREHOUSE_PUBLISHED_DB", str(landed.published_db))

    text, _ = execute("call_center_answer_rates.ipynb")
    assert "call_center_monthly" in text  # publication log shown
    assert "予約受付専用ダイヤル" in text  # per-dial comparison rendered

    text, images = execute("np_payment_rates.ipynb")
    assert "np_payment_rate" in text and "沖縄県" in text  # publication log, prefecture ranking
    assert images == 2  # the FY2019 vs FY2020 curves and the ranking chart

    text, images = execute("employer_arrears.ipynb")
    assert "employer_collection" in text and "厚生年金保険" in text
    assert images == 1  # arrears by insurance type and the deferral effect, side by side
