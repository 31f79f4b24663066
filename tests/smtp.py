"""A real SMTP server on loopback (aiosmtpd) that keeps every message it receives, parsed."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller

SENDER = "warehouse@pension.example"
RECIPIENT = "oncall@pension.example"
# The subjects of the alerts of a night on which every source is overdue: one per source.
EVERY_SOURCE_STALE = sorted(
    f"[pension warehouse] source stale: {source}"
    for source in (
        "call_center/calls",
        "national_pension/premium_ledger",
        "national_pension/collection_actions",
        "national_pension/contractor_activity",
        "employer/establishments",
        "employer/contributions",
    )
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    def __init__(self):
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 OK"

    def take(self) -> list[EmailMessage]:
        """The messages received so far, removed from the box."""
        with self._lock:
            taken, self.messages = self.messages, []
        return taken

    def wait(self, count: int, timeout: float = 60) -> list[EmailMessage]:
        """At least ``count`` messages (taken from the box), waiting for them to arrive."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.take()


class SmtpServer:
    def __init__(self):
        self.mailbox = Mailbox()
        self.port = free_port()
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    @property
    def alert_url(self) -> str:
        """The apprise URL that sends mail here, as WAREHOUSE_ALERT_URLS would hold it (no TLS on loopback)."""
        return f"mailto://127.0.0.1:{self.port}?from={SENDER}&to={RECIPIENT}&mode=insecure"

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()


def text(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
