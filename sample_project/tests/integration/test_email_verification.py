from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from blogshop import db
from blogshop.db import Database
from blogshop.models import User
from blogshop.services.email_verification import (
    DEFAULT_TTL_HOURS,
    EmailVerificationService,
    hash_token,
)
from blogshop.services.errors import (
    EmailAlreadyVerifiedError,
    UserNotFoundError,
    VerificationTokenExpiredError,
    VerificationTokenInvalidError,
    VerificationTokenUsedError,
)
from blogshop.services.mailer import OutboxMailer
from blogshop.utils.clock import FrozenClock

MakeUser = Callable[..., Awaitable[User]]


async def test_a_token_verifies_the_email_once(
    verifications: EmailVerificationService, make_user: MakeUser, database: Database
) -> None:
    user = await make_user()
    token = await verifications.issue(user.id)

    verified = await verifications.verify(token)

    assert verified.id == user.id
    assert verified.email_verified
    with pytest.raises(VerificationTokenUsedError):
        await verifications.verify(token)
    record = await database.run(db.get_verification_by_token_hash, hash_token(token))
    assert record is not None
    assert record.is_used


async def test_only_a_digest_of_the_token_is_stored(
    verifications: EmailVerificationService, make_user: MakeUser, database: Database
) -> None:
    token = await verifications.issue((await make_user()).id)

    def all_hashes(connection: sqlite3.Connection) -> list[str]:
        rows = connection.execute("SELECT token_hash FROM email_verifications")
        return [row["token_hash"] for row in rows]

    assert await database.run(all_hashes) == [hash_token(token)]
    assert token not in hash_token(token)


async def test_the_link_is_mailed_to_the_user(
    verifications: EmailVerificationService, make_user: MakeUser, mailer: OutboxMailer
) -> None:
    user = await make_user("grace@example.com")

    token = await verifications.issue(user.id)

    message = mailer.last_to("grace@example.com")
    assert message.subject == "Confirm your email address"
    assert f"verify-email?token={token}" in message.body
    assert f"within {DEFAULT_TTL_HOURS} hours" in message.body
    with pytest.raises(LookupError):
        mailer.last_to("nobody@example.com")


async def test_a_token_expires_after_24_hours(
    verifications: EmailVerificationService, make_user: MakeUser, clock: FrozenClock
) -> None:
    token = await verifications.issue((await make_user()).id)

    clock.advance(timedelta(hours=24))

    with pytest.raises(VerificationTokenExpiredError):
        await verifications.verify(token)


async def test_a_token_still_works_just_before_expiry(
    verifications: EmailVerificationService, make_user: MakeUser, clock: FrozenClock
) -> None:
    token = await verifications.issue((await make_user()).id)

    clock.advance(timedelta(hours=24) - timedelta(seconds=1))

    assert (await verifications.verify(token)).email_verified


@pytest.mark.parametrize("token", ["", "never-issued"])
async def test_unknown_tokens_are_invalid(
    verifications: EmailVerificationService, token: str
) -> None:
    with pytest.raises(VerificationTokenInvalidError):
        await verifications.verify(token)


async def test_a_verified_user_gets_no_new_token(
    verifications: EmailVerificationService, make_user: MakeUser, mailer: OutboxMailer
) -> None:
    user = await make_user(verified=True)

    with pytest.raises(EmailAlreadyVerifiedError):
        await verifications.issue(user.id)
    assert mailer.sent == []


async def test_issuing_for_an_unknown_user_fails(verifications: EmailVerificationService) -> None:
    with pytest.raises(UserNotFoundError):
        await verifications.issue(12345)


async def test_the_lifetime_must_be_positive(database: Database, mailer: OutboxMailer) -> None:
    with pytest.raises(ValueError, match="ttl_hours"):
        EmailVerificationService(database, mailer, ttl_hours=0)
