from __future__ import annotations

import pytest
from blogshop.api import ERROR_STATUS, App, error_response, handle, status_for
from blogshop.auth.errors import ExpiredTokenError, MalformedHashError, PasswordPolicyError
from blogshop.errors import BlogshopError
from blogshop.payments.errors import IdempotencyConflictError, InvalidMoneyError
from blogshop.services.errors import (
    NotPostAuthorError,
    PostNotFoundError,
    VerificationTokenExpiredError,
)


async def test_an_unknown_path_is_not_found(app: App) -> None:
    response = await handle(app, "GET", "/nowhere")

    assert response.status == 404
    assert response.body["error"] == {"code": "no_route", "message": "no route for /nowhere"}


@pytest.mark.parametrize("path", ["/posts/abc", "/posts/0", "/posts/1/unpublish", "/posts/"])
async def test_paths_with_bad_ids_do_not_match(app: App, path: str) -> None:
    assert (await handle(app, "GET", path)).status == 404


async def test_a_known_path_with_the_wrong_method_is_not_allowed(app: App) -> None:
    response = await handle(app, "DELETE", "/posts")

    assert response.status == 405
    assert response.headers == {"Allow": "GET, POST"}


async def test_methods_are_case_insensitive(app: App) -> None:
    assert (await handle(app, "get", "/posts")).status == 200


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidMoneyError("x"), 422),
        (PasswordPolicyError(["too short"]), 422),
        (ExpiredTokenError("x"), 401),
        (NotPostAuthorError("x"), 403),
        (PostNotFoundError("x"), 404),
        (IdempotencyConflictError("x"), 409),
        (VerificationTokenExpiredError("x"), 410),
        (MalformedHashError("x"), 500),  # corrupt data is a server problem
        (BlogshopError("x"), 500),
    ],
)
def test_status_for_error_families(error: BlogshopError, status: int) -> None:
    assert status_for(error) == status
    assert error_response(error).status == status


def test_specific_families_are_checked_before_general_ones() -> None:
    families = [family for family, _ in ERROR_STATUS]

    for index, family in enumerate(families):
        for later in families[index + 1 :]:
            assert not issubclass(later, family), f"{later} is shadowed by {family}"
