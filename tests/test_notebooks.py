"""Analyst notebooks run top to bottom against a freshly published database."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.fixture
def published(landed, run_nightly, monkeypatch):
    assert run_nightly().success
    monkeypatch.setenv("WAREHOUSE_PUBLISHED_DB", str(landed.published_db))
    return landed.published_db


def test_call_center_notebook_executes(published):
    notebook = nbformat.read(NOTEBOOKS / "call_center_answer_rates.ipynb", as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    outputs = "".join(
        str(output.get("data", {}).get("text/plain", "")) + output.get("text", "")
        for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    )
    assert "call_center_monthly" in outputs  # publication log shown
    assert "予約受付専用ダイヤル" in outputs  # per-dial comparison rendered


def test_payment_rate_notebook_executes(published):
    notebook = nbformat.read(NOTEBOOKS / "np_payment_rates.ipynb", as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    outputs = "".join(
        str(output.get("data", {}).get("text/plain", "")) + output.get("text", "")
        for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    )
    images = sum("image/png" in output.get("data", {}) for cell in notebook.cells for output in cell.get("outputs", []))
    assert "np_payment_rate" in outputs  # publication log shown
    assert "沖縄県" in outputs  # prefecture ranking rendered
    assert images == 2  # the curves and the ranking chart
