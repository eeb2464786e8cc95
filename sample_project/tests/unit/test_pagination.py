from __future__ import annotations

import pytest
from blogshop.errors import ValidationError
from blogshop.utils.pagination import (
    DEFAULT_PER_PAGE,
    MAX_PER_PAGE,
    InvalidPageError,
    Page,
    PageRequest,
    total_pages,
)


def test_defaults_and_offset() -> None:
    assert PageRequest() == PageRequest(page=1, per_page=DEFAULT_PER_PAGE)
    assert PageRequest().offset == 0
    assert PageRequest(page=3, per_page=10).offset == 20


@pytest.mark.parametrize(
    ("page", "per_page", "message"),
    [
        (0, 10, "page must be at least 1"),
        (-1, 10, "page must be at least 1"),
        (1, 0, "per_page must be between"),
        (1, MAX_PER_PAGE + 1, "per_page must be between"),
        (True, 10, "page must be an integer"),
        ("2", 10, "page must be an integer"),
        (1, 2.0, "per_page must be an integer"),
    ],
)
def test_invalid_requests_are_refused(page: object, per_page: object, message: str) -> None:
    with pytest.raises(InvalidPageError, match=message):
        PageRequest(page=page, per_page=per_page)  # type: ignore[arg-type]


def test_the_largest_page_size_is_allowed() -> None:
    assert PageRequest(per_page=MAX_PER_PAGE).per_page == MAX_PER_PAGE


@pytest.mark.parametrize(
    ("page", "per_page", "expected"),
    [
        (None, None, PageRequest(1, DEFAULT_PER_PAGE)),
        ("", "", PageRequest(1, DEFAULT_PER_PAGE)),
        ("2", "50", PageRequest(2, 50)),
        (" 3 ", None, PageRequest(3, DEFAULT_PER_PAGE)),
    ],
)
def test_from_query(page: str | None, per_page: str | None, expected: PageRequest) -> None:
    assert PageRequest.from_query(page, per_page) == expected


@pytest.mark.parametrize(
    ("page", "per_page"), [("abc", None), ("-1", None), ("1.5", None), ("²", None), ("0", "5")]
)
def test_from_query_refuses_non_positive_integers(page: str, per_page: str | None) -> None:
    with pytest.raises(InvalidPageError):
        PageRequest.from_query(page, per_page)
    assert issubclass(InvalidPageError, ValidationError)


@pytest.mark.parametrize(
    ("total", "per_page", "pages"), [(0, 10, 0), (1, 10, 1), (10, 10, 1), (11, 10, 2), (95, 20, 5)]
)
def test_total_pages(total: int, per_page: int, pages: int) -> None:
    assert total_pages(total, per_page) == pages


@pytest.mark.parametrize(("total", "per_page"), [(-1, 10), (10, 0)])
def test_total_pages_refuses_impossible_inputs(total: int, per_page: int) -> None:
    with pytest.raises(ValueError, match="must"):
        total_pages(total, per_page)


@pytest.mark.parametrize(
    ("page", "has_previous", "has_next"), [(1, False, True), (2, True, True), (3, True, False)]
)
def test_page_navigation(page: int, has_previous: bool, has_next: bool) -> None:
    result = Page(items=("x",), total=25, request=PageRequest(page=page, per_page=10))

    assert result.total_pages == 3
    assert result.has_previous is has_previous
    assert result.has_next is has_next


def test_an_empty_result_has_no_next_page() -> None:
    result: Page[str] = Page(items=(), total=0, request=PageRequest())

    assert result.total_pages == 0
    assert not result.has_next
    assert not result.has_previous
