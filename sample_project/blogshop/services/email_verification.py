"""Email verification with single-use tokens that expire after 24 hours.

The token is mailed to the user and never stored: the database keeps only its SHA-256 digest,
so a leaked database does not leak working verification links.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from urllib.parse import quote

from blogshop import db
from blogshop.db import Database
from blogshop.models import User
from blogshop.services.errors import (
    EmailAlreadyVerifiedError,
    UserNotFoundError,
    VerificationTokenExpiredError,
    VerificationTokenInvalidError,
    VerificationTokenUsedError,
)
from blogshop.services.mailer import EmailMessage, Mailer
from blogshop.utils.clock import Clock, add_hours, utc_now

DEFAULT_TTL_HOURS = 24
DEFAULT_LINK_BASE = "https://blogshop.example/verify-email?token="


def hash_token(token: str) -> str:
    """The digest under which a verification token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class EmailVerificationService:
    def __init__(
        self,
        database: Database,
        mailer: Mailer,
        *,
        clock: Clock = utc_now,
        ttl_hours: int = DEFAULT_TTL_HOURS,
        link_base: str = DEFAULT_LINK_BASE,
    ) -> None:
        if ttl_hours <= 0:
            raise ValueError(f"ttl_hours must be positive, got {ttl_hours}")
        self._db = database
        self._mailer = mailer
        self._clock = clock
        self._ttl_hours = ttl_hours
        self._link_base = link_base

    async def issue(self, user_id: int) -> str:
        """Create a token for ``user_id``, mail the link to the user, and return the token."""
        token = secrets.token_urlsafe(32)
        now = self._clock()

        def store(connection: sqlite3.Connection) -> User:
            user = db.get_user(connection, user_id)
            if user is None:
                raise UserNotFoundError(f"no user with id {user_id}")
            if user.email_verified:
                raise EmailAlreadyVerifiedError(f"{user.email} is already verified")
            db.insert_verification(
                connection,
                user_id=user.id,
                token_hash=hash_token(token),
                expires_at=add_hours(now, self._ttl_hours),
                created_at=now,
            )
            return user

        user = await self._db.run(store)
        await self._mailer.send(
            EmailMessage(
                to=user.email,
                subject="Confirm your email address",
                body=(
                    f"Hello {user.display_name},\n\n"
                    f"please confirm your address within {self._ttl_hours} hours:\n"
                    f"{self._link_base}{quote(token)}\n"
                ),
            )
        )
        return token

    async def verify(self, token: str) -> User:
        """Mark the token used and the user's email verified; return the updated user."""
        if not token:
            raise VerificationTokenInvalidError("verification token is empty")
        now = self._clock()

        def consume(connection: sqlite3.Connection) -> User:
            record = db.get_verification_by_token_hash(connection, hash_token(token))
            if record is None:
                raise VerificationTokenInvalidError("unknown verification token")
            if record.is_used:
                raise VerificationTokenUsedError("this verification link was already used")
            if record.is_expired(now):
                raise VerificationTokenExpiredError("this verification link has expired")
            db.mark_verification_used(connection, record.id, now)
            db.mark_email_verified(connection, record.user_id)
            user = db.get_user(connection, record.user_id)
            assert user is not None, "email_verifications.user_id references users.id"
            return user

        return await self._db.run(consume)
