"""An ``App`` on a real SQLite database, driven through ``blogshop.api.handle``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from blogshop.api import App, create_app, handle
from blogshop.auth.passwords import PasswordHasher
from blogshop.db import Database
from blogshop.services.mailer import OutboxMailer
from blogshop.utils.clock import FrozenClock

PASSWORD = "correct horse 42"


@pytest.fixture
def outbox() -> OutboxMailer:
    return OutboxMailer()


@pytest.fixture
async def app(
    database: Database,
    secret: bytes,
    hasher: PasswordHasher,
    outbox: OutboxMailer,
    clock: FrozenClock,
) -> AsyncIterator[App]:
    application = create_app(database, secret=secret, hasher=hasher, mailer=outbox, clock=clock)
    yield application
    await application.close()
    assert database.closed


@pytest.fixture
def sign_up(app: App, outbox: OutboxMailer) -> Callable[..., Awaitable[dict[str, str]]]:
    """Register and log in through the API; returns the Authorization header."""

    async def sign_up(email: str = "ada@example.com", *, verified: bool = False) -> dict[str, str]:
        created = await handle(
            app, "POST", "/users", {"email": email, "password": PASSWORD, "display_name": "Ada"}
        )
        assert created.status == 201, created.body
        if verified:
            token = outbox.last_to(email).body.rsplit("token=", 1)[1].strip()
            confirmed = await handle(app, "POST", "/email-verifications/confirm", {"token": token})
            assert confirmed.status == 200, confirmed.body
        login = await handle(app, "POST", "/sessions", {"email": email, "password": PASSWORD})
        assert login.status == 201, login.body
        return {"Authorization": f"Bearer {login.body['token']}"}

    return sign_up
