"""Field validation shared by the services."""

from __future__ import annotations

from blogshop.services.errors import InvalidInputError


def clean_text(field: str, value: object, *, max_length: int, multiline: bool = False) -> str:
    """Return ``value`` stripped, requiring a non-empty string of at most ``max_length``."""
    if not isinstance(value, str):
        raise InvalidInputError(field, "must be a string")
    cleaned = value.strip()
    if not cleaned:
        raise InvalidInputError(field, "must not be empty")
    if len(cleaned) > max_length:
        raise InvalidInputError(field, f"must be at most {max_length} characters")
    if not multiline and any(char in cleaned for char in "\r\n"):
        raise InvalidInputError(field, "must be a single line")
    return cleaned
