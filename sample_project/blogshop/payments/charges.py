"""Charges and refunds, made safe to retry with idempotency keys.

A client sends an idempotency key with every charge. Retrying with the same key (after a
timeout, say) returns the original charge instead of charging twice; reusing a key for a
different amount or description is a client bug and is refused with a conflict.
"""

from __future__ import annotations

import re
import sqlite3

from blogshop import db
from blogshop.db import Database
from blogshop.models import Charge, Refund
from blogshop.payments.errors import (
    ChargeNotFoundError,
    CurrencyMismatchError,
    CustomerNotFoundError,
    IdempotencyConflictError,
    InvalidChargeError,
    RefundExceedsChargeError,
)
from blogshop.payments.money import Money
from blogshop.utils.clock import Clock, utc_now

MAX_DESCRIPTION_LENGTH = 500
# 1 to 255 printable ASCII characters, no spaces: UUIDs and ULIDs both fit.
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def _owned_charge(connection: sqlite3.Connection, charge_id: int, customer_id: int) -> Charge:
    charge = db.get_charge(connection, charge_id)
    # Someone else's charge is reported as missing, so ids cannot be probed.
    if charge is None or charge.customer_id != customer_id:
        raise ChargeNotFoundError(f"no charge with id {charge_id}")
    return charge


class PaymentService:
    def __init__(self, database: Database, *, clock: Clock = utc_now) -> None:
        self._db = database
        self._clock = clock

    async def charge(
        self, *, customer_id: int, amount: Money, idempotency_key: str, description: str = ""
    ) -> Charge:
        """Charge ``customer_id``, or return the earlier charge made with the same key."""
        if not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
            raise InvalidChargeError(
                "idempotency key must be 1 to 255 printable ASCII characters without spaces"
            )
        if amount.is_zero:
            raise InvalidChargeError("a charge must be for a positive amount")
        text = description.strip()
        if len(text) > MAX_DESCRIPTION_LENGTH:
            raise InvalidChargeError(
                f"description must be at most {MAX_DESCRIPTION_LENGTH} characters"
            )
        now = self._clock()

        def charge_once(connection: sqlite3.Connection) -> Charge:
            earlier = db.find_charge_by_idempotency_key(connection, customer_id, idempotency_key)
            if earlier is not None:
                if (earlier.amount, earlier.description) != (amount, text):
                    raise IdempotencyConflictError(
                        f"idempotency key {idempotency_key!r} was used for a different charge"
                        f" ({earlier.amount})"
                    )
                return earlier
            if db.get_user(connection, customer_id) is None:
                raise CustomerNotFoundError(f"no customer with id {customer_id}")
            return db.insert_charge(
                connection,
                customer_id=customer_id,
                idempotency_key=idempotency_key,
                amount=amount,
                description=text,
                created_at=now,
            )

        return await self._db.run(charge_once)

    async def get_charge(self, *, charge_id: int, customer_id: int) -> Charge:
        return await self._db.run(_owned_charge, charge_id, customer_id)

    async def list_refunds(self, *, charge_id: int, customer_id: int) -> list[Refund]:
        def fetch(connection: sqlite3.Connection) -> list[Refund]:
            _owned_charge(connection, charge_id, customer_id)
            return db.list_refunds(connection, charge_id)

        return await self._db.run(fetch)

    async def refund(
        self, *, charge_id: int, customer_id: int, amount: Money | None = None
    ) -> Refund:
        """Refund ``amount`` of a charge, or everything not yet refunded when it is ``None``.

        Check and write happen in one transaction, so concurrent refunds can never add up to
        more than the charge.
        """
        now = self._clock()

        def refund_once(connection: sqlite3.Connection) -> Refund:
            charge = _owned_charge(connection, charge_id, customer_id)
            remaining = charge.refundable
            requested = remaining if amount is None else amount
            if requested.currency != charge.currency:
                raise CurrencyMismatchError(
                    f"refund in {requested.currency} for a charge in {charge.currency}"
                )
            if remaining.is_zero:
                raise RefundExceedsChargeError("the charge is already fully refunded")
            if requested.is_zero:
                raise InvalidChargeError("a refund must be for a positive amount")
            if requested > remaining:
                raise RefundExceedsChargeError(
                    f"cannot refund {requested}: only {remaining} of {charge.amount} is left"
                )
            return db.record_refund(
                connection, charge_id=charge.id, amount=requested, created_at=now
            )

        return await self._db.run(refund_once)
