from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from blogshop.models import ChargeStatus, User
from blogshop.payments.charges import MAX_DESCRIPTION_LENGTH, PaymentService
from blogshop.payments.errors import (
    ChargeNotFoundError,
    CurrencyMismatchError,
    CustomerNotFoundError,
    IdempotencyConflictError,
    InvalidChargeError,
    RefundExceedsChargeError,
)
from blogshop.payments.money import Money
from blogshop.utils.clock import FrozenClock

MakeUser = Callable[..., Awaitable[User]]


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


async def test_a_charge_is_recorded(
    payments: PaymentService, make_user: MakeUser, clock: FrozenClock
) -> None:
    customer = await make_user()

    charge = await payments.charge(
        customer_id=customer.id, amount=eur("19.99"), idempotency_key="order-1", description=" Pro "
    )

    assert (charge.amount, charge.refunded, charge.status) == (
        eur("19.99"),
        eur("0"),
        ChargeStatus.SUCCEEDED,
    )
    assert (charge.description, charge.created_at) == ("Pro", clock())
    assert await payments.get_charge(charge_id=charge.id, customer_id=customer.id) == charge


async def test_retrying_with_the_same_key_returns_the_same_charge(
    payments: PaymentService, make_user: MakeUser
) -> None:
    customer = await make_user()

    results = await asyncio.gather(
        *(
            payments.charge(customer_id=customer.id, amount=eur("5"), idempotency_key="k-1")
            for _ in range(3)
        )
    )

    assert len({charge.id for charge in results}) == 1
    other = await payments.charge(customer_id=customer.id, amount=eur("5"), idempotency_key="k-2")
    assert other.id != results[0].id


@pytest.mark.parametrize(
    ("amount", "description"),
    [(Money.of("6.00", "EUR"), ""), (Money.of("5.00", "USD"), ""), (Money.of("5.00", "EUR"), "x")],
)
async def test_reusing_a_key_for_a_different_charge_is_a_conflict(
    payments: PaymentService, make_user: MakeUser, amount: Money, description: str
) -> None:
    customer = await make_user()
    await payments.charge(customer_id=customer.id, amount=eur("5.00"), idempotency_key="k")

    with pytest.raises(IdempotencyConflictError, match="different charge"):
        await payments.charge(
            customer_id=customer.id, amount=amount, idempotency_key="k", description=description
        )


async def test_idempotency_keys_are_scoped_per_customer(
    payments: PaymentService, make_user: MakeUser
) -> None:
    ada, bob = await make_user("ada@example.com"), await make_user("bob@example.com")

    first = await payments.charge(customer_id=ada.id, amount=eur("5"), idempotency_key="k")
    second = await payments.charge(customer_id=bob.id, amount=eur("7"), idempotency_key="k")

    assert (first.customer_id, second.customer_id) == (ada.id, bob.id)


@pytest.mark.parametrize(
    ("request_fields", "message"),
    [
        ({"idempotency_key": ""}, "idempotency key"),
        ({"idempotency_key": "has space"}, "idempotency key"),
        ({"idempotency_key": "k" * 256}, "idempotency key"),
        ({"idempotency_key": "ключ"}, "idempotency key"),
        ({"amount": eur("0")}, "positive amount"),
        ({"description": "d" * (MAX_DESCRIPTION_LENGTH + 1)}, "description"),
    ],
)
async def test_invalid_charges_are_refused(
    payments: PaymentService, make_user: MakeUser, request_fields: dict[str, Any], message: str
) -> None:
    customer = await make_user()
    fields: dict[str, Any] = {"amount": eur("5"), "idempotency_key": "k", **request_fields}

    with pytest.raises(InvalidChargeError, match=message):
        await payments.charge(customer_id=customer.id, **fields)


async def test_charging_an_unknown_customer_fails(payments: PaymentService) -> None:
    with pytest.raises(CustomerNotFoundError):
        await payments.charge(customer_id=404, amount=eur("5"), idempotency_key="k")


async def test_partial_refunds_add_up_to_a_full_refund(
    payments: PaymentService, make_user: MakeUser
) -> None:
    customer = await make_user()
    charge = await payments.charge(customer_id=customer.id, amount=eur("10"), idempotency_key="k")

    first = await payments.refund(charge_id=charge.id, customer_id=customer.id, amount=eur("2.5"))
    after_first = await payments.get_charge(charge_id=charge.id, customer_id=customer.id)
    rest = await payments.refund(charge_id=charge.id, customer_id=customer.id)
    after_rest = await payments.get_charge(charge_id=charge.id, customer_id=customer.id)

    assert (first.amount, after_first.status) == (eur("2.50"), ChargeStatus.PARTIALLY_REFUNDED)
    assert (rest.amount, after_rest.status) == (eur("7.50"), ChargeStatus.REFUNDED)
    assert after_rest.refundable.is_zero
    refunds = await payments.list_refunds(charge_id=charge.id, customer_id=customer.id)
    assert refunds == [first, rest]
    with pytest.raises(RefundExceedsChargeError, match="already fully refunded"):
        await payments.refund(charge_id=charge.id, customer_id=customer.id)


async def test_a_refund_cannot_exceed_what_is_left(
    payments: PaymentService, make_user: MakeUser
) -> None:
    customer = await make_user()
    charge = await payments.charge(customer_id=customer.id, amount=eur("10"), idempotency_key="k")
    await payments.refund(charge_id=charge.id, customer_id=customer.id, amount=eur("4"))

    with pytest.raises(RefundExceedsChargeError, match=r"only 6\.00 EUR of 10\.00 EUR is left"):
        await payments.refund(charge_id=charge.id, customer_id=customer.id, amount=eur("6.01"))
    unchanged = await payments.get_charge(charge_id=charge.id, customer_id=customer.id)
    assert unchanged.refunded == eur("4")


async def test_concurrent_refunds_never_exceed_the_charge(
    payments: PaymentService, make_user: MakeUser
) -> None:
    customer = await make_user()
    charge = await payments.charge(customer_id=customer.id, amount=eur("100"), idempotency_key="k")

    outcomes = await asyncio.gather(
        *(
            payments.refund(charge_id=charge.id, customer_id=customer.id, amount=eur("40"))
            for _ in range(3)
        ),
        return_exceptions=True,
    )

    assert sum(isinstance(outcome, RefundExceedsChargeError) for outcome in outcomes) == 1
    final = await payments.get_charge(charge_id=charge.id, customer_id=customer.id)
    assert final.refunded == eur("80")


@pytest.mark.parametrize(
    ("amount", "error"),
    [(Money.of("0", "EUR"), InvalidChargeError), (Money.of("1", "USD"), CurrencyMismatchError)],
)
async def test_invalid_refunds_are_refused(
    payments: PaymentService, make_user: MakeUser, amount: Money, error: type[Exception]
) -> None:
    customer = await make_user()
    charge = await payments.charge(customer_id=customer.id, amount=eur("10"), idempotency_key="k")

    with pytest.raises(error):
        await payments.refund(charge_id=charge.id, customer_id=customer.id, amount=amount)


async def test_other_customers_charges_look_missing(
    payments: PaymentService, make_user: MakeUser
) -> None:
    owner, stranger = await make_user("o@example.com"), await make_user("s@example.com")
    charge = await payments.charge(customer_id=owner.id, amount=eur("10"), idempotency_key="k")

    with pytest.raises(ChargeNotFoundError):
        await payments.get_charge(charge_id=charge.id, customer_id=stranger.id)
    with pytest.raises(ChargeNotFoundError):
        await payments.refund(charge_id=charge.id, customer_id=stranger.id)
    with pytest.raises(ChargeNotFoundError):
        await payments.list_refunds(charge_id=charge.id, customer_id=stranger.id)
    with pytest.raises(ChargeNotFoundError):
        await payments.get_charge(charge_id=charge.id + 1, customer_id=owner.id)
