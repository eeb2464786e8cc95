"""Errors raised by the payments package."""

from __future__ import annotations

from blogshop.errors import ConflictError, NotFoundError, ValidationError


class InvalidMoneyError(ValidationError):
    """An amount is not a finite, non-negative number of whole cents, or the currency is unknown."""

    code = "invalid_money"


class CurrencyMismatchError(ValidationError):
    """Two amounts in different currencies were combined or compared."""

    code = "currency_mismatch"


class InvalidChargeError(ValidationError):
    """A charge or refund request is invalid (zero amount, bad idempotency key, ...)."""

    code = "invalid_charge"


class ChargeNotFoundError(NotFoundError):
    """No charge with this id belongs to the caller."""

    code = "charge_not_found"


class CustomerNotFoundError(NotFoundError):
    """The customer to charge does not exist."""

    code = "customer_not_found"


class IdempotencyConflictError(ConflictError):
    """An idempotency key was reused with different request parameters."""

    code = "idempotency_conflict"


class RefundExceedsChargeError(ConflictError):
    """A refund asks for more than what is left of the charge."""

    code = "refund_exceeds_charge"
