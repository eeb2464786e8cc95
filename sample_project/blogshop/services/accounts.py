"""Registration, login and session lookup."""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import timedelta

from blogshop import db
from blogshop.auth.errors import MalformedTokenError
from blogshop.auth.passwords import PasswordHasher, validate_password
from blogshop.auth.tokens import TokenSigner
from blogshop.db import Database, UniqueViolationError
from blogshop.models import User
from blogshop.services.email_verification import EmailVerificationService
from blogshop.services.errors import (
    DuplicateEmailError,
    InvalidCredentialsError,
    InvalidInputError,
    UserNotFoundError,
)
from blogshop.services.validation import clean_text
from blogshop.utils.clock import Clock, utc_now

SESSION_TTL = timedelta(hours=12)
MAX_EMAIL_LENGTH = 254
MAX_DISPLAY_NAME_LENGTH = 50
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_USER_ID = re.compile(r"[1-9][0-9]*")


def normalize_email(value: str) -> str:
    """Return the address stripped and lowercased, or raise ``InvalidInputError``."""
    email = clean_text("email", value, max_length=MAX_EMAIL_LENGTH).lower()
    if not _EMAIL.fullmatch(email):
        raise InvalidInputError("email", "is not a valid email address")
    return email


class AccountService:
    def __init__(
        self,
        database: Database,
        *,
        hasher: PasswordHasher,
        signer: TokenSigner,
        verifications: EmailVerificationService,
        clock: Clock = utc_now,
        session_ttl: timedelta = SESSION_TTL,
    ) -> None:
        self._db = database
        self._hasher = hasher
        self._signer = signer
        self._verifications = verifications
        self._clock = clock
        self._session_ttl = session_ttl
        # Verified against when the email is unknown, so both failures cost the same time.
        self._dummy_hash = hasher.hash(secrets.token_urlsafe(16))

    async def register(self, *, email: str, password: str, display_name: str) -> User:
        """Create an unverified account and mail its verification link."""
        address = normalize_email(email)
        name = clean_text("display_name", display_name, max_length=MAX_DISPLAY_NAME_LENGTH)
        validate_password(password)
        # Key derivation is deliberately slow: keep it off the event loop.
        password_hash = await asyncio.to_thread(self._hasher.hash, password)
        try:
            user = await self._db.run(
                db.insert_user,
                email=address,
                display_name=name,
                password_hash=password_hash,
                created_at=self._clock(),
            )
        except UniqueViolationError as exc:
            raise DuplicateEmailError(f"{address} is already registered") from exc
        await self._verifications.issue(user.id)
        return user

    async def authenticate(self, *, email: str, password: str) -> str:
        """Return a session token, or raise ``InvalidCredentialsError``.

        Hashes made with fewer iterations than the current setting are upgraded on the way.
        """
        user = await self._db.run(db.get_user_by_email, email.strip().lower())
        encoded = self._dummy_hash if user is None else user.password_hash
        matches = await asyncio.to_thread(self._hasher.verify, password, encoded)
        if user is None or not matches:
            raise InvalidCredentialsError("wrong email or password")
        if self._hasher.needs_rehash(user.password_hash):
            upgraded = await asyncio.to_thread(self._hasher.hash, password)
            await self._db.run(db.update_password_hash, user.id, upgraded)
        return self._signer.issue(str(user.id), self._session_ttl)

    async def user_for_token(self, token: str) -> User:
        """Return the user a session token belongs to, or raise an ``AuthenticationError``."""
        claims = self._signer.verify(token)
        if not _USER_ID.fullmatch(claims.subject):
            raise MalformedTokenError("token subject is not a user id")
        user = await self._db.run(db.get_user, int(claims.subject))
        if user is None:
            raise InvalidCredentialsError("the token's user no longer exists")
        return user

    async def get_user(self, user_id: int) -> User:
        user = await self._db.run(db.get_user, user_id)
        if user is None:
            raise UserNotFoundError(f"no user with id {user_id}")
        return user
