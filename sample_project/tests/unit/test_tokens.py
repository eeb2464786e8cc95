from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from blogshop.auth.errors import (
    ExpiredTokenError,
    InvalidSignatureError,
    MalformedTokenError,
    TokenError,
)
from blogshop.auth.tokens import TokenSigner
from blogshop.errors import AuthenticationError
from blogshop.utils.clock import FrozenClock

HOUR = timedelta(hours=1)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def signed(payload: bytes, secret: bytes) -> str:
    """A token with a valid signature over an arbitrary payload."""
    return f"{b64(payload)}.{b64(hmac.new(secret, payload, hashlib.sha256).digest())}"


def test_a_fresh_token_verifies_with_its_claims(signer: TokenSigner, clock: FrozenClock) -> None:
    claims = signer.verify(signer.issue("42", HOUR))

    assert claims.subject == "42"
    assert claims.issued_at == clock()
    assert claims.expires_at == clock() + HOUR


def test_the_payload_is_base64url_json_with_subject_and_expiry(
    signer: TokenSigner, clock: FrozenClock
) -> None:
    payload, _, signature = signer.issue("42", HOUR).partition(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))

    now = int(clock().timestamp())
    assert data == {"sub": "42", "iat": now, "exp": now + 3600}
    assert "=" not in payload + signature


def test_a_token_expires_at_its_expiry_instant(signer: TokenSigner, clock: FrozenClock) -> None:
    token = signer.issue("42", HOUR)

    clock.advance(HOUR - timedelta(seconds=1))
    assert signer.verify(token).subject == "42"

    clock.advance(timedelta(seconds=1))
    with pytest.raises(ExpiredTokenError):
        signer.verify(token)


def test_a_changed_payload_breaks_the_signature(signer: TokenSigner) -> None:
    _, _, signature = signer.issue("42", HOUR).partition(".")
    forged_payload = json.dumps({"sub": "1", "iat": 0, "exp": 2**40}).encode()

    with pytest.raises(InvalidSignatureError):
        signer.verify(f"{b64(forged_payload)}.{signature}")


def test_a_changed_signature_is_rejected(signer: TokenSigner) -> None:
    payload, _, signature = signer.issue("42", HOUR).partition(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]

    with pytest.raises(InvalidSignatureError):
        signer.verify(f"{payload}.{flipped}")


def test_a_token_from_another_secret_is_rejected(signer: TokenSigner, clock: FrozenClock) -> None:
    other = TokenSigner(b"x" * 32, clock=clock)

    with pytest.raises(InvalidSignatureError):
        signer.verify(other.issue("42", HOUR))


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b.c", ".c2ln", "e30.", "not*base64.c2ln", "e30.c2ln!", "é.c2ln", "e.c2ln"],
)
def test_malformed_tokens_are_rejected(signer: TokenSigner, token: str) -> None:
    with pytest.raises(MalformedTokenError):
        signer.verify(token)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"iat": 0, "exp": 9999999999}', "subject"),
        (b'{"sub": "", "iat": 0, "exp": 9999999999}', "subject"),
        (b'{"sub": 7, "iat": 0, "exp": 9999999999}', "subject"),
        (b'{"sub": "42", "iat": 0, "exp": "tomorrow"}', "'exp' must be an integer"),
        (b'{"sub": "42", "iat": true, "exp": 9999999999}', "'iat' must be an integer"),
        (b'{"sub": "42", "iat": 0, "exp": 1e10}', "'exp' must be an integer"),
        (b'{"sub": "42", "iat": 0, "exp": 99999999999999999999}', "'exp' is out of range"),
    ],
)
def test_validly_signed_but_invalid_payloads_are_rejected(
    signer: TokenSigner, secret: bytes, payload: bytes, reason: str
) -> None:
    with pytest.raises(MalformedTokenError, match=reason):
        signer.verify(signed(payload, secret))


def test_every_token_error_is_an_authentication_error() -> None:
    for error in (MalformedTokenError, InvalidSignatureError, ExpiredTokenError):
        assert issubclass(error, TokenError)
        assert issubclass(error, AuthenticationError)


@pytest.mark.parametrize(
    ("subject", "ttl", "message"),
    [("", HOUR, "subject"), ("42", timedelta(0), "ttl"), ("42", -HOUR, "ttl")],
)
def test_issuing_validates_its_inputs(
    signer: TokenSigner, subject: str, ttl: timedelta, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        signer.issue(subject, ttl)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        TokenSigner(b"too short")
