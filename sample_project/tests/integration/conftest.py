"""Services wired to a real SQLite database in a temporary folder."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from blogshop import db
from blogshop.auth.passwords import PasswordHasher
from blogshop.auth.tokens import TokenSigner
from blogshop.db import Database
from blogshop.models import User
from blogshop.payments.charges import PaymentService
from blogshop.services.accounts import AccountService
from blogshop.services.email_verification import EmailVerificationService
from blogshop.services.mailer import OutboxMailer
from blogshop.services.posts import PostService
from blogshop.utils.clock import FrozenClock

MakeUser = Callable[..., Awaitable[User]]


@pytest.fixture
def mailer() -> OutboxMailer:
    return OutboxMailer()


@pytest.fixture
def verifications(
    database: Database, mailer: OutboxMailer, clock: FrozenClock
) -> EmailVerificationService:
    return EmailVerificationService(database, mailer, clock=clock)


@pytest.fixture
def accounts(
    database: Database,
    hasher: PasswordHasher,
    signer: TokenSigner,
    verifications: EmailVerificationService,
    clock: FrozenClock,
) -> AccountService:
    return AccountService(
        database, hasher=hasher, signer=signer, verifications=verifications, clock=clock
    )


@pytest.fixture
def posts(database: Database, clock: FrozenClock) -> PostService:
    return PostService(database, clock=clock)


@pytest.fixture
def payments(database: Database, clock: FrozenClock) -> PaymentService:
    return PaymentService(database, clock=clock)


@pytest.fixture
def make_user(database: Database, clock: FrozenClock) -> MakeUser:
    """Insert a user directly, optionally already verified."""

    async def make(email: str = "ada@example.com", *, verified: bool = False) -> User:
        user = await database.run(
            db.insert_user,
            email=email,
            display_name=email.split("@", maxsplit=1)[0].title(),
            password_hash="not-a-real-hash",
            created_at=clock(),
        )
        if verified:
            await database.run(db.mark_email_verified, user.id)
        stored = await database.run(db.get_user, user.id)
        assert stored is not None
        return stored

    return make
