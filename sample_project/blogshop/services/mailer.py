"""Outgoing email. Services depend on the ``Mailer`` protocol, never on a transport."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class EmailMessage:
    to: str
    subject: str
    body: str


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` or raise."""


@dataclass
class OutboxMailer:
    """Collects messages instead of sending them: for development and tests."""

    sent: list[EmailMessage] = field(default_factory=list)

    async def send(self, message: EmailMessage) -> None:
        self.sent.append(message)

    def last_to(self, address: str) -> EmailMessage:
        """Return the most recent message sent to ``address``."""
        for message in reversed(self.sent):
            if message.to == address:
                return message
        raise LookupError(f"no message was sent to {address}")
