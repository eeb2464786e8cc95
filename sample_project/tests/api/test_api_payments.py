from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from blogshop.api import App, Response, handle

SignUp = Callable[..., Awaitable[dict[str, str]]]
CHARGE = {"amount": "25.00", "currency": "EUR", "description": "Annual plan"}


async def charge(
    app: App, headers: dict[str, str], changes: dict[str, object] | None = None
) -> Response:
    """POST /charges with the default body, adjusted by ``changes``, and a fixed key."""
    body = {**CHARGE, **(changes or {})}
    return await handle(app, "POST", "/charges", body, {**headers, "Idempotency-Key": "order-1"})


def body_of(response: Response, key: str) -> dict[str, object]:
    value = response.body[key]
    assert isinstance(value, dict), response.body
    return value


async def test_a_charge_is_created_with_exact_amounts(app: App, sign_up: SignUp) -> None:
    response = await charge(app, await sign_up(), {"amount": "25.5"})

    assert response.status == 201
    created = body_of(response, "charge")
    assert (created["amount"], created["refunded"], created["currency"]) == ("25.50", "0.00", "EUR")
    assert (created["status"], created["description"]) == ("succeeded", "Annual plan")


async def test_a_retried_charge_returns_the_original(app: App, sign_up: SignUp) -> None:
    headers = await sign_up()

    first = await charge(app, headers)
    retry = await charge(app, headers)
    conflict = await charge(app, headers, {"amount": "30.00"})

    assert (first.status, retry.status) == (201, 201)
    assert body_of(first, "charge")["id"] == body_of(retry, "charge")["id"]
    assert conflict.status == 409
    assert body_of(conflict, "error")["code"] == "idempotency_conflict"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"amount": 25.0}, 422, "invalid_money"),
        ({"amount": "25.001"}, 422, "invalid_money"),
        ({"amount": "-1"}, 422, "invalid_money"),
        ({"currency": "XXX"}, 422, "invalid_money"),
        ({"amount": "0"}, 422, "invalid_charge"),
        ({"currency": None}, 400, "bad_request"),
    ],
)
async def test_invalid_charges_are_refused(
    app: App, sign_up: SignUp, body: dict[str, object], status: int, code: str
) -> None:
    response = await charge(app, await sign_up(), body)

    assert response.status == status
    assert body_of(response, "error")["code"] == code


async def test_a_charge_needs_an_amount_and_an_idempotency_key(app: App, sign_up: SignUp) -> None:
    headers = await sign_up()

    no_key = await handle(app, "POST", "/charges", CHARGE, headers)
    no_amount = await handle(
        app, "POST", "/charges", {"currency": "EUR"}, {**headers, "Idempotency-Key": "k"}
    )

    assert (no_key.status, no_amount.status) == (400, 400)
    assert "Idempotency-Key" in str(body_of(no_key, "error")["message"])
    assert body_of(no_amount, "error")["message"] == "missing field 'amount'"


async def test_refunds_partial_then_full(app: App, sign_up: SignUp) -> None:
    headers = await sign_up()
    charge_id = body_of(await charge(app, headers), "charge")["id"]
    refunds_path = f"/charges/{charge_id}/refunds"

    partial = await handle(app, "POST", refunds_path, {"amount": "5"}, headers)
    in_currency = await handle(
        app, "POST", refunds_path, {"amount": "5.00", "currency": "EUR"}, headers
    )
    rest = await handle(app, "POST", refunds_path, None, headers)
    too_much = await handle(app, "POST", refunds_path, {"amount": "0.01"}, headers)
    details = await handle(app, "GET", f"/charges/{charge_id}", headers=headers)

    assert [r.status for r in (partial, in_currency, rest)] == [201, 201, 201]
    assert body_of(rest, "refund")["amount"] == "15.00"
    assert too_much.status == 409
    assert body_of(details, "charge")["status"] == "refunded"
    refunds = details.body["refunds"]
    assert isinstance(refunds, list)
    assert [refund["amount"] for refund in refunds] == ["5.00", "5.00", "15.00"]


async def test_a_refund_in_another_currency_is_refused(app: App, sign_up: SignUp) -> None:
    headers = await sign_up()
    charge_id = body_of(await charge(app, headers), "charge")["id"]

    response = await handle(
        app, "POST", f"/charges/{charge_id}/refunds", {"amount": "5", "currency": "USD"}, headers
    )

    assert response.status == 422
    assert body_of(response, "error")["code"] == "currency_mismatch"


async def test_charges_are_private_to_their_customer(app: App, sign_up: SignUp) -> None:
    owner = await sign_up("ada@example.com")
    stranger = await sign_up("bob@example.com")
    charge_id = body_of(await charge(app, owner), "charge")["id"]

    seen = await handle(app, "GET", f"/charges/{charge_id}", headers=stranger)
    refunded = await handle(app, "POST", f"/charges/{charge_id}/refunds", {"amount": "1"}, stranger)

    assert (seen.status, refunded.status) == (404, 404)
    assert body_of(seen, "error")["code"] == "charge_not_found"
