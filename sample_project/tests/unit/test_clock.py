from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from blogshop.utils.clock import (
    FrozenClock,
    InvalidTimestampError,
    add_hours,
    ensure_utc,
    format_iso,
    from_unix,
    parse_iso,
    to_unix,
    utc_now,
)

NOON = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
PLUS_TWO = timezone(timedelta(hours=2))


def test_utc_now_is_aware_and_current() -> None:
    before = datetime.now(timezone.utc)
    now = utc_now()

    assert now.utcoffset() == timedelta(0)
    assert before <= now <= datetime.now(timezone.utc)


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01T12:00:00Z",
        "2024-05-01T12:00:00z",
        "2024-05-01T12:00:00+00:00",
        "2024-05-01T14:00:00+02:00",
        " 2024-05-01T12:00:00.000000+00:00 ",
    ],
)
def test_parse_iso_returns_utc(text: str) -> None:
    parsed = parse_iso(text)

    assert parsed == NOON
    assert parsed.tzinfo == timezone.utc


@pytest.mark.parametrize("text", ["", "yesterday", "2024-13-01T00:00:00Z", "2024-05-01T12:00:00"])
def test_parse_iso_refuses_bad_or_naive_timestamps(text: str) -> None:
    with pytest.raises(InvalidTimestampError):
        parse_iso(text)


def test_format_iso_is_utc_with_fixed_width() -> None:
    assert format_iso(NOON) == "2024-05-01T12:00:00.000000+00:00"
    assert format_iso(datetime(2024, 5, 1, 14, 0, 0, 5, tzinfo=PLUS_TWO)) == (
        "2024-05-01T12:00:00.000005+00:00"
    )
    assert parse_iso(format_iso(NOON)) == NOON


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(InvalidTimestampError, match="naive"):
        format_iso(datetime(2024, 5, 1, 12, 0))
    with pytest.raises(InvalidTimestampError):
        ensure_utc(datetime(2024, 5, 1))


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        (24, datetime(2024, 5, 2, 12, 0, tzinfo=timezone.utc)),
        (-12, datetime(2024, 5, 1, 0, 0, tzinfo=timezone.utc)),
        (1.5, datetime(2024, 5, 1, 13, 30, tzinfo=timezone.utc)),
        (0, NOON),
    ],
)
def test_add_hours(hours: float, expected: datetime) -> None:
    assert add_hours(NOON, hours) == expected


def test_add_hours_converts_to_utc() -> None:
    shifted = add_hours(datetime(2024, 5, 1, 14, 0, tzinfo=PLUS_TWO), 1)

    assert shifted == datetime(2024, 5, 1, 13, 0, tzinfo=timezone.utc)
    assert shifted.tzinfo == timezone.utc


@pytest.mark.parametrize("hours", [True, "1", None])
def test_add_hours_needs_a_number(hours: object) -> None:
    with pytest.raises(TypeError, match="hours must be a number"):
        add_hours(NOON, hours)  # type: ignore[arg-type]


def test_unix_round_trip_drops_fractions() -> None:
    assert to_unix(NOON) == 1714564800
    assert from_unix(1714564800) == NOON
    assert to_unix(NOON + timedelta(milliseconds=999)) == 1714564800


def test_frozen_clock_stands_still_until_moved() -> None:
    clock = FrozenClock(datetime(2024, 5, 1, 14, 0, tzinfo=PLUS_TWO))

    assert clock() == NOON
    assert clock() == clock()
    clock.advance(timedelta(hours=1))
    assert clock() == NOON + timedelta(hours=1)
    clock.set(NOON)
    assert clock() == NOON
    with pytest.raises(InvalidTimestampError):
        clock.set(datetime(2024, 5, 1))
