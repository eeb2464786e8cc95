"""Charges and refunds."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from blogshop.payments.money import Money


class ChargeStatus(str, enum.Enum):
    SUCCEEDED = "succeeded"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


@dataclass(frozen=True, slots=True)
class Charge:
    """A successful payment; ``refunded`` is the sum of its refunds, in the same currency."""

    id: int
    customer_id: int
    amount: Money
    refunded: Money
    idempotency_key: str
    description: str
    created_at: datetime

    @property
    def currency(self) -> str:
        return self.amount.currency

    @property
    def refundable(self) -> Money:
        """What may still be refunded."""
        return self.amount - self.refunded

    @property
    def status(self) -> ChargeStatus:
        if self.refunded.is_zero:
            return ChargeStatus.SUCCEEDED
        if self.refunded == self.amount:
            return ChargeStatus.REFUNDED
        return ChargeStatus.PARTIALLY_REFUNDED


@dataclass(frozen=True, slots=True)
class Refund:
    id: int
    charge_id: int
    amount: Money
    created_at: datetime
