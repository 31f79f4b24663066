"""Waiting for something a real process does, with a deadline and a message that says what was awaited."""

from __future__ import annotations

import time


def wait_until(predicate, timeout: float, what: str, poll: float = 0.2):
    """The first truthy value of ``predicate()``, polled every ``poll`` seconds for up to ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
