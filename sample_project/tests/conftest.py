"""Fixtures shared by the unit, integration and API tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from blogshop.auth.passwords import PasswordHasher
from blogshop.auth.tokens import TokenSigner
from blogshop.db import Database
from blogshop.utils.clock import FrozenClock

# The real default is 600,000 iterations; the stored hash carries its own count, so a low
# setting exercises exactly the same code in a fraction of the time.
TEST_ITERATIONS = 1_000
SECRET = b"blogshop-test-secret-0123456789abcdef"
START = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def hasher() -> PasswordHasher:
    return PasswordHasher(iterations=TEST_ITERATIONS)


@pytest.fixture
def secret() -> bytes:
    return SECRET


@pytest.fixture
def signer(clock: FrozenClock, secret: bytes) -> TokenSigner:
    return TokenSigner(secret, clock=clock)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    # A real file, without waiting for the disk on each commit (durability is not under test).
    db = await Database.connect(tmp_path / "blogshop.sqlite3", synchronous="OFF")
    yield db
    await db.close()
