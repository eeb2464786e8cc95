"""Page-number pagination with validated requests."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from blogshop.errors import ValidationError

T = TypeVar("T")

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
_DIGITS = re.compile(r"[0-9]+")


class InvalidPageError(ValidationError):
    """A page number or page size is out of range or not an integer."""

    code = "invalid_page"


def _parse_positive_int(name: str, raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    text = raw.strip()
    if not _DIGITS.fullmatch(text):
        raise InvalidPageError(f"{name} must be a positive integer, got {raw!r}")
    return int(text)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Which page to return: ``page`` counts from 1, ``per_page`` is capped at ``MAX_PER_PAGE``."""

    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    def __post_init__(self) -> None:
        for name in ("page", "per_page"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidPageError(f"{name} must be an integer, got {type(value).__name__}")
        if self.page < 1:
            raise InvalidPageError(f"page must be at least 1, got {self.page}")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise InvalidPageError(
                f"per_page must be between 1 and {MAX_PER_PAGE}, got {self.per_page}"
            )

    @classmethod
    def from_query(cls, page: str | None, per_page: str | None) -> PageRequest:
        """Build a request from query-string values; missing values take the defaults."""
        return cls(
            page=_parse_positive_int("page", page, 1),
            per_page=_parse_positive_int("per_page", per_page, DEFAULT_PER_PAGE),
        )

    @property
    def offset(self) -> int:
        """How many items precede this page."""
        return (self.page - 1) * self.per_page


def total_pages(total: int, per_page: int) -> int:
    """Number of pages needed for ``total`` items (0 when there are none)."""
    if total < 0:
        raise ValueError(f"total must not be negative, got {total}")
    if per_page < 1:
        raise ValueError(f"per_page must be at least 1, got {per_page}")
    return -(-total // per_page)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results plus what a client needs to fetch the others."""

    items: Sequence[T]
    total: int
    request: PageRequest

    @property
    def total_pages(self) -> int:
        return total_pages(self.total, self.request.per_page)

    @property
    def has_next(self) -> bool:
        return self.request.page < self.total_pages

    @property
    def has_previous(self) -> bool:
        return self.request.page > 1
