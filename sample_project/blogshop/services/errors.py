"""Errors raised by the business services."""

from __future__ import annotations

from blogshop.errors import (
    AuthenticationError,
    ConflictError,
    GoneError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)


class InvalidInputError(ValidationError):
    """A field is missing, empty, too long or badly formatted."""

    code = "invalid_input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class DuplicateEmailError(ConflictError):
    code = "email_taken"


class InvalidCredentialsError(AuthenticationError):
    """Wrong email or password; deliberately does not say which."""

    code = "invalid_credentials"


class UserNotFoundError(NotFoundError):
    code = "user_not_found"


class PostNotFoundError(NotFoundError):
    code = "post_not_found"


class NotPostAuthorError(PermissionDeniedError):
    """Only a post's author may change it."""

    code = "not_author"


class EmailNotVerifiedError(PermissionDeniedError):
    """The action needs a verified email address."""

    code = "email_not_verified"


class PostAlreadyPublishedError(ConflictError):
    code = "already_published"


class EmailAlreadyVerifiedError(ConflictError):
    code = "email_already_verified"


class VerificationTokenInvalidError(NotFoundError):
    """No verification was ever issued for this token."""

    code = "verification_token_invalid"


class VerificationTokenUsedError(ConflictError):
    code = "verification_token_used"


class VerificationTokenExpiredError(GoneError):
    code = "verification_token_expired"
