"""Errors raised by the auth package."""

from __future__ import annotations

from blogshop.errors import AuthenticationError, BlogshopError, ValidationError


class PasswordPolicyError(ValidationError):
    """A new password breaks the password policy; ``problems`` lists every broken rule."""

    code = "weak_password"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("password does not meet the policy: " + "; ".join(problems))
        self.problems = problems


class MalformedHashError(BlogshopError, ValueError):
    """A stored password hash cannot be parsed, or uses an unsupported algorithm."""

    code = "malformed_hash"


class TokenError(AuthenticationError):
    """Base class of every reason to reject a token."""

    code = "invalid_token"


class MalformedTokenError(TokenError):
    """The token is not ``payload.signature`` in base64url, or its payload is not valid."""

    code = "malformed_token"


class InvalidSignatureError(TokenError):
    """The token's signature does not match its payload: it was tampered with or forged."""

    code = "invalid_signature"


class ExpiredTokenError(TokenError):
    """The token was valid but its expiry time has passed."""

    code = "token_expired"
