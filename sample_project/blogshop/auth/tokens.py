"""Expiring signed tokens: ``base64url(payload) "." base64url(HMAC-SHA256(payload))``.

The payload is compact JSON ``{"sub": <subject>, "iat": <issued>, "exp": <expires>}`` with
Unix timestamps in seconds. The signature is checked, in constant time, before the payload is
parsed, so a forged token never reaches the JSON decoder.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from blogshop.auth.encoding import b64url_decode, b64url_encode
from blogshop.auth.errors import ExpiredTokenError, InvalidSignatureError, MalformedTokenError
from blogshop.utils.clock import Clock, from_unix, to_unix, utc_now

MIN_SECRET_BYTES = 32


def _b64decode(text: str) -> bytes:
    try:
        return b64url_decode(text)
    except ValueError as exc:  # binascii.Error and UnicodeEncodeError are ValueErrors
        raise MalformedTokenError("token is not valid base64url") from exc


def _timestamp_claim(data: dict[str, object], name: str) -> datetime:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedTokenError(f"token claim {name!r} must be an integer")
    try:
        return from_unix(value)
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedTokenError(f"token claim {name!r} is out of range") from exc


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified token asserts."""

    subject: str
    issued_at: datetime
    expires_at: datetime


class TokenSigner:
    """Issues and verifies tokens signed with a shared secret."""

    def __init__(self, secret: bytes, *, clock: Clock = utc_now) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret
        self._clock = clock

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()

    def issue(self, subject: str, ttl: timedelta) -> str:
        """Return a token for ``subject`` that expires ``ttl`` from now."""
        if not subject:
            raise ValueError("subject must not be empty")
        if ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        now = self._clock()
        claims = {"sub": subject, "iat": to_unix(now), "exp": to_unix(now + ttl)}
        payload = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode("utf-8")
        return f"{b64url_encode(payload)}.{b64url_encode(self._sign(payload))}"

    def verify(self, token: str) -> TokenClaims:
        """Return the claims of a valid token, or raise a ``TokenError`` saying why not."""
        parts = token.split(".")
        if len(parts) != 2 or not all(parts):
            raise MalformedTokenError("token must have the form payload.signature")
        payload = _b64decode(parts[0])
        signature = _b64decode(parts[1])
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise InvalidSignatureError("token signature does not match")
        claims = self._parse_claims(payload)
        if self._clock() >= claims.expires_at:
            raise ExpiredTokenError(f"token expired at {claims.expires_at.isoformat()}")
        return claims

    @staticmethod
    def _parse_claims(payload: bytes) -> TokenClaims:
        try:
            data = json.loads(payload)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise MalformedTokenError("token payload is not JSON") from exc
        if not isinstance(data, dict):
            raise MalformedTokenError("token payload must be a JSON object")
        subject = data.get("sub")
        if not isinstance(subject, str) or not subject:
            raise MalformedTokenError("token subject must be a non-empty string")
        return TokenClaims(
            subject=subject,
            issued_at=_timestamp_claim(data, "iat"),
            expires_at=_timestamp_claim(data, "exp"),
        )
