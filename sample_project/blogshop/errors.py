"""The root of blogshop's exception hierarchy.

Every domain error derives from one of the families below; the API layer maps a family to an
HTTP status code, so new errors only need the right base class and a machine-readable ``code``.
"""

from __future__ import annotations


class BlogshopError(Exception):
    """Base class of every error that blogshop raises on purpose."""

    code = "error"


class ValidationError(BlogshopError, ValueError):
    """The input is well-formed but violates a rule (HTTP 422)."""

    code = "invalid"


class AuthenticationError(BlogshopError):
    """The caller could not be identified (HTTP 401)."""

    code = "unauthenticated"


class PermissionDeniedError(BlogshopError):
    """The caller is known but may not do this (HTTP 403)."""

    code = "forbidden"


class NotFoundError(BlogshopError):
    """The addressed resource does not exist, or is not visible to the caller (HTTP 404)."""

    code = "not_found"


class ConflictError(BlogshopError):
    """The request conflicts with the current state of a resource (HTTP 409)."""

    code = "conflict"


class GoneError(BlogshopError):
    """The resource existed but is no longer usable, e.g. an expired link (HTTP 410)."""

    code = "gone"
