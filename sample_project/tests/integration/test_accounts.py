from __future__ import annotations

from datetime import timedelta

import pytest
from blogshop import db
from blogshop.auth.errors import ExpiredTokenError, MalformedTokenError, PasswordPolicyError
from blogshop.auth.passwords import PasswordHasher
from blogshop.auth.tokens import TokenSigner
from blogshop.db import Database
from blogshop.services.accounts import SESSION_TTL, AccountService, normalize_email
from blogshop.services.email_verification import EmailVerificationService
from blogshop.services.errors import (
    DuplicateEmailError,
    InvalidCredentialsError,
    InvalidInputError,
    UserNotFoundError,
)
from blogshop.services.mailer import OutboxMailer
from blogshop.utils.clock import FrozenClock

PASSWORD = "correct horse 42"


async def test_register_stores_a_hashed_password_and_mails_a_link(
    accounts: AccountService, database: Database, hasher: PasswordHasher, mailer: OutboxMailer
) -> None:
    user = await accounts.register(
        email="  Ada@Example.COM ", password=PASSWORD, display_name=" Ada Lovelace "
    )

    assert (user.email, user.display_name, user.email_verified) == (
        "ada@example.com",
        "Ada Lovelace",
        False,
    )
    stored = await database.run(db.get_user, user.id)
    assert stored == user
    assert PASSWORD not in stored.password_hash
    assert hasher.verify(PASSWORD, stored.password_hash)
    message = mailer.last_to("ada@example.com")
    assert "verify-email?token=" in message.body
    assert "Ada Lovelace" in message.body


async def test_an_email_can_register_only_once(accounts: AccountService) -> None:
    await accounts.register(email="ada@example.com", password=PASSWORD, display_name="Ada")

    with pytest.raises(DuplicateEmailError):
        await accounts.register(email="ADA@example.com", password=PASSWORD, display_name="Ada 2")


@pytest.mark.parametrize(
    ("email", "display_name", "field"),
    [
        ("not-an-email", "Ada", "email"),
        ("ada@localhost", "Ada", "email"),
        ("ada@@example.com", "Ada", "email"),
        ("", "Ada", "email"),
        ("ada@example.com", "   ", "display_name"),
        ("ada@example.com", "A" * 51, "display_name"),
        ("ada@example.com", "Ada\nLovelace", "display_name"),
    ],
)
async def test_register_validates_its_fields(
    accounts: AccountService, mailer: OutboxMailer, email: str, display_name: str, field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await accounts.register(email=email, password=PASSWORD, display_name=display_name)

    assert caught.value.field == field
    assert mailer.sent == []


async def test_register_enforces_the_password_policy(accounts: AccountService) -> None:
    with pytest.raises(PasswordPolicyError):
        await accounts.register(email="ada@example.com", password="short", display_name="Ada")


def test_normalize_email_refuses_non_strings() -> None:
    with pytest.raises(InvalidInputError, match="must be a string"):
        normalize_email(None)  # type: ignore[arg-type]


async def test_login_returns_a_session_token_for_the_user(
    accounts: AccountService, signer: TokenSigner, clock: FrozenClock
) -> None:
    user = await accounts.register(email="ada@example.com", password=PASSWORD, display_name="Ada")

    token = await accounts.authenticate(email=" ADA@example.com", password=PASSWORD)

    assert await accounts.user_for_token(token) == user
    assert signer.verify(token).expires_at == clock() + SESSION_TTL


@pytest.mark.parametrize(
    ("email", "password"),
    [("ada@example.com", "wrong horse 42"), ("bob@example.com", PASSWORD), ("", "")],
)
async def test_login_fails_the_same_way_for_any_wrong_credential(
    accounts: AccountService, email: str, password: str
) -> None:
    await accounts.register(email="ada@example.com", password=PASSWORD, display_name="Ada")

    with pytest.raises(InvalidCredentialsError, match="wrong email or password"):
        await accounts.authenticate(email=email, password=password)


async def test_login_upgrades_hashes_made_with_fewer_iterations(
    accounts: AccountService,
    database: Database,
    signer: TokenSigner,
    verifications: EmailVerificationService,
    hasher: PasswordHasher,
) -> None:
    user = await accounts.register(email="ada@example.com", password=PASSWORD, display_name="Ada")
    stronger = PasswordHasher(iterations=hasher.iterations * 2)
    upgraded_service = AccountService(
        database, hasher=stronger, signer=signer, verifications=verifications
    )

    await upgraded_service.authenticate(email="ada@example.com", password=PASSWORD)

    stored = await database.run(db.get_user, user.id)
    assert stored is not None
    assert stored.password_hash != user.password_hash
    assert not stronger.needs_rehash(stored.password_hash)
    assert stronger.verify(PASSWORD, stored.password_hash)
    # Logging in again with the up-to-date hash leaves it alone.
    await upgraded_service.authenticate(email="ada@example.com", password=PASSWORD)
    again = await database.run(db.get_user, user.id)
    assert again is not None
    assert again.password_hash == stored.password_hash


async def test_an_expired_session_is_refused(accounts: AccountService, clock: FrozenClock) -> None:
    await accounts.register(email="ada@example.com", password=PASSWORD, display_name="Ada")
    token = await accounts.authenticate(email="ada@example.com", password=PASSWORD)

    clock.advance(SESSION_TTL + timedelta(seconds=1))

    with pytest.raises(ExpiredTokenError):
        await accounts.user_for_token(token)


@pytest.mark.parametrize(
    ("subject", "error"),
    [
        ("999", InvalidCredentialsError),
        ("admin", MalformedTokenError),
        ("007", MalformedTokenError),
    ],
)
async def test_a_token_must_name_an_existing_user(
    accounts: AccountService, signer: TokenSigner, subject: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await accounts.user_for_token(signer.issue(subject, timedelta(minutes=5)))


async def test_get_user(accounts: AccountService) -> None:
    user = await accounts.register(email="ada@example.com", password=PASSWORD, display_name="Ada")

    assert await accounts.get_user(user.id) == user
    with pytest.raises(UserNotFoundError):
        await accounts.get_user(user.id + 1)
