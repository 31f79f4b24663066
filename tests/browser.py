"""Debian's Chromium, driven by playwright, for the tests that look at the UI as a person does."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium")
# Where screenshots go, to be looked at after the run.
SHOTS = Path(os.environ.get("WAREHOUSE_SCREENSHOTS", "/tmp/warehouse-screenshots"))


@contextmanager
def chromium_context() -> Iterator:
    """One browser context for every page: Dagster's community dialog, once skipped, stays away."""
    if CHROMIUM is None:
        pytest.fail("Chromium is not installed: `make browser` installs Debian's chromium (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = chromium.new_context(viewport={"width": 1600, "height": 1100})
        try:
            yield context
        finally:
            context.close()
            chromium.close()


def screenshot_page(browser, url: str, name: str, expect: str):
    """Open ``url``, wait for the text ``expect``, and save a full-page screenshot as SHOTS/<name>.png."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = browser.new_page()
    page.goto(url)
    page.get_by_text(expect).first.wait_for(timeout=60_000)
    with contextlib.suppress(PlaywrightTimeout):  # Dagster's community dialog, shown a moment after the first page
        page.get_by_role("button", name="Skip").click(timeout=4_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    return page


def screenshot_streamlit(browser, url: str, name: str, expect: str):
    """As ``screenshot_page``, for a Streamlit page: it scrolls inside its main container, so a full-page
    shot would show one screen. The viewport is made as tall as the page's content, then shot."""
    page = browser.new_page()
    page.goto(url)
    page.get_by_text(expect).first.wait_for(timeout=60_000)
    page.wait_for_timeout(1_500)  # charts draw after the text appears
    height = page.evaluate(
        """() => Math.max(...[...document.querySelectorAll('[data-testid="stMain"], section.main, [data-testid="stAppViewContainer"]')]
                 .map(e => e.scrollHeight), document.body.scrollHeight)"""
    )
    page.set_viewport_size({"width": 1600, "height": int(height) + 100})
    page.wait_for_timeout(1_500)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    return page


def wait_for_http(url: str, what: str, timeout: float = 120, process=None) -> None:
    """Wait until ``url`` answers (a server starting), failing early if its ``process`` exits."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            assert time.monotonic() < deadline, f"{what} did not start within {timeout:.0f} s"
            assert process is None or process.poll() is None, f"{what} exited ({process.returncode})"
            time.sleep(1)
