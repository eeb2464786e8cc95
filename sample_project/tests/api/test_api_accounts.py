from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from blogshop.api import App, handle
from blogshop.services.accounts import SESSION_TTL
from blogshop.services.mailer import OutboxMailer
from blogshop.utils.clock import FrozenClock

SignUp = Callable[..., Awaitable[dict[str, str]]]
PASSWORD = "correct horse 42"
NEW_USER = {"email": "ada@example.com", "password": PASSWORD, "display_name": "Ada"}


def mailed_token(outbox: OutboxMailer, email: str = "ada@example.com") -> str:
    return outbox.last_to(email).body.rsplit("token=", 1)[1].strip()


async def test_register_returns_the_public_user(app: App, outbox: OutboxMailer) -> None:
    response = await handle(app, "POST", "/users", NEW_USER)

    assert response.status == 201
    user = response.body["user"]
    assert isinstance(user, dict)
    assert user["email"] == "ada@example.com"
    assert user["email_verified"] is False
    assert "password_hash" not in user
    assert PASSWORD not in repr(response.body)
    assert len(outbox.sent) == 1


async def test_registering_twice_is_a_conflict(app: App) -> None:
    await handle(app, "POST", "/users", NEW_USER)

    response = await handle(app, "POST", "/users", NEW_USER)

    assert response.status == 409
    assert response.body["error"] == {
        "code": "email_taken",
        "message": "ada@example.com is already registered",
    }


async def test_a_weak_password_lists_the_problems(app: App) -> None:
    response = await handle(app, "POST", "/users", {**NEW_USER, "password": "short"})

    assert response.status == 422
    error = response.body["error"]
    assert isinstance(error, dict)
    assert error["code"] == "weak_password"
    assert error["problems"] == ["must be at least 10 characters long", "must contain a digit"]


async def test_an_invalid_email_names_the_field(app: App) -> None:
    response = await handle(app, "POST", "/users", {**NEW_USER, "email": "nope"})

    assert response.status == 422
    assert response.body["error"] == {
        "code": "invalid_input",
        "message": "email: is not a valid email address",
        "field": "email",
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"email": "ada@example.com", "password": PASSWORD}, "missing field 'display_name'"),
        ({**NEW_USER, "email": 42}, "field 'email' must be a string"),
        ({**NEW_USER, "email": None}, "missing field 'email'"),
        (["not", "an", "object"], "the request body must be a JSON object"),
        (None, "missing field 'email'"),
    ],
)
async def test_malformed_bodies_are_bad_requests(app: App, body: object, message: str) -> None:
    response = await handle(app, "POST", "/users", body)

    assert response.status == 400
    assert response.body["error"] == {"code": "bad_request", "message": message}


async def test_login_and_who_am_i(app: App, sign_up: SignUp) -> None:
    headers = await sign_up()

    response = await handle(app, "GET", "/me", headers=headers)

    assert response.status == 200
    user = response.body["user"]
    assert isinstance(user, dict)
    assert user["email"] == "ada@example.com"


async def test_header_names_are_case_insensitive(app: App, sign_up: SignUp) -> None:
    headers = await sign_up()

    response = await handle(app, "GET", "/me", headers={"AUTHORIZATION": headers["Authorization"]})

    assert response.status == 200


async def test_wrong_password_is_unauthorized(app: App) -> None:
    await handle(app, "POST", "/users", NEW_USER)

    response = await handle(
        app, "POST", "/sessions", {"email": "ada@example.com", "password": "wrong horse 42"}
    )

    assert response.status == 401
    assert response.body["error"] == {
        "code": "invalid_credentials",
        "message": "wrong email or password",
    }


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "unauthenticated"),
        ({"Authorization": "Basic YWRhOnB3"}, "unauthenticated"),
        ({"Authorization": "Bearer "}, "unauthenticated"),
        ({"Authorization": "Bearer not-a-token"}, "malformed_token"),
        ({"Authorization": "Bearer e30.c2ln"}, "invalid_signature"),
    ],
)
async def test_me_needs_a_valid_bearer_token(app: App, headers: dict[str, str], code: str) -> None:
    response = await handle(app, "GET", "/me", headers=headers)

    assert response.status == 401
    error = response.body["error"]
    assert isinstance(error, dict)
    assert error["code"] == code


async def test_an_expired_session_is_unauthorized(
    app: App, sign_up: SignUp, clock: FrozenClock
) -> None:
    headers = await sign_up()
    clock.advance(SESSION_TTL)

    response = await handle(app, "GET", "/me", headers=headers)

    assert response.status == 401
    error = response.body["error"]
    assert isinstance(error, dict)
    assert error["code"] == "token_expired"


async def test_email_verification_flow(app: App, outbox: OutboxMailer) -> None:
    await handle(app, "POST", "/users", NEW_USER)
    token = mailed_token(outbox)

    confirmed = await handle(app, "POST", "/email-verifications/confirm", {"token": token})
    reused = await handle(app, "POST", "/email-verifications/confirm", {"token": token})
    unknown = await handle(app, "POST", "/email-verifications/confirm", {"token": "forged"})

    assert confirmed.status == 200
    user = confirmed.body["user"]
    assert isinstance(user, dict)
    assert user["email_verified"] is True
    assert reused.status == 409
    assert unknown.status == 404


async def test_an_expired_verification_link_is_gone(
    app: App, outbox: OutboxMailer, clock: FrozenClock
) -> None:
    await handle(app, "POST", "/users", NEW_USER)
    clock.advance(timedelta(hours=24, seconds=1))

    response = await handle(
        app, "POST", "/email-verifications/confirm", {"token": mailed_token(outbox)}
    )

    assert response.status == 410
    error = response.body["error"]
    assert isinstance(error, dict)
    assert error["code"] == "verification_token_expired"


async def test_a_new_link_can_be_requested_until_verified(
    app: App, sign_up: SignUp, outbox: OutboxMailer
) -> None:
    headers = await sign_up()
    first_link = mailed_token(outbox)

    resent = await handle(app, "POST", "/email-verifications", headers=headers)
    second_link = mailed_token(outbox)
    await handle(app, "POST", "/email-verifications/confirm", {"token": second_link})
    after = await handle(app, "POST", "/email-verifications", headers=headers)

    assert resent.status == 202
    assert second_link != first_link
    assert after.status == 409
    assert len(outbox.sent) == 2
