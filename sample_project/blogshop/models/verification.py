"""Email-verification tokens. Only a SHA-256 digest of each token is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class EmailVerification:
    id: int
    user_id: int
    token_hash: str
    expires_at: datetime
    used_at: datetime | None = None

    @property
    def is_used(self) -> bool:
        return self.used_at is not None

    def is_expired(self, now: datetime) -> bool:
        """A token is expired from its ``expires_at`` instant on."""
        return now >= self.expires_at
