"""Time helpers. Every timestamp in blogshop is a timezone-aware UTC ``datetime``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from blogshop.errors import ValidationError

Clock = Callable[[], datetime]
"""A zero-argument callable returning the current time; injected so tests can freeze time."""


class InvalidTimestampError(ValidationError):
    """A timestamp is malformed or lacks a timezone."""

    code = "invalid_timestamp"


def utc_now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def ensure_utc(moment: datetime) -> datetime:
    """Return ``moment`` converted to UTC; naive datetimes are refused, never guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidTimestampError(f"naive datetime {moment.isoformat()} has no timezone")
    return moment.astimezone(timezone.utc)


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 timestamp with an offset (``Z`` accepted) into aware UTC."""
    candidate = text.strip()
    if candidate.endswith(("Z", "z")):
        # datetime.fromisoformat() accepts "Z" only from Python 3.11 on.
        candidate = candidate[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError as exc:
        raise InvalidTimestampError(f"not an ISO 8601 timestamp: {text!r}") from exc
    return ensure_utc(parsed)


def format_iso(moment: datetime) -> str:
    """Format an aware datetime as an ISO 8601 UTC string with microseconds.

    The fixed width keeps stored timestamps sortable as plain strings.
    """
    return ensure_utc(moment).isoformat(timespec="microseconds")


def add_hours(moment: datetime, hours: float) -> datetime:
    """Return ``moment`` shifted by ``hours`` (which may be negative or fractional)."""
    if isinstance(hours, bool) or not isinstance(hours, (int, float)):
        raise TypeError(f"hours must be a number, not {type(hours).__name__}")
    return ensure_utc(moment) + timedelta(hours=hours)


def to_unix(moment: datetime) -> int:
    """Return whole seconds since the Unix epoch (fractions are dropped)."""
    return int(ensure_utc(moment).timestamp())


def from_unix(seconds: int) -> datetime:
    """Return the aware UTC datetime for a Unix timestamp in seconds."""
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


class FrozenClock:
    """A ``Clock`` that stands still until moved: for tests, replays and batch jobs."""

    def __init__(self, start: datetime) -> None:
        self._now = ensure_utc(start)

    def __call__(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = ensure_utc(moment)

    def advance(self, delta: timedelta) -> None:
        self._now += delta
