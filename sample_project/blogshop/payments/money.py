"""Money as an exact ``Decimal`` amount of whole cents in a known currency.

Floats are refused outright (``0.1 + 0.2 != 0.3``); amounts with more than two decimals are
refused rather than silently rounded, because rounding a price is a business decision.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from blogshop.payments.errors import CurrencyMismatchError, InvalidMoneyError

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000000.00")
# ISO 4217 currencies with two minor-unit digits that the shop accepts.
SUPPORTED_CURRENCIES = frozenset({"CHF", "EUR", "GBP", "SEK", "USD"})


def _to_decimal(amount: object) -> Decimal:
    if isinstance(amount, Decimal):
        return amount
    if isinstance(amount, str):
        try:
            return Decimal(amount.strip())
        except InvalidOperation as exc:
            raise InvalidMoneyError(f"not a decimal amount: {amount!r}") from exc
    # bool is an int subclass, and a float cannot hold cents exactly: both are refused.
    if isinstance(amount, int) and not isinstance(amount, bool):
        return Decimal(amount)
    raise InvalidMoneyError(f"amount must be a Decimal, int or str, not {type(amount).__name__}")


@functools.total_ordering
@dataclass(frozen=True, slots=True)
class Money:
    """A non-negative amount of money, always quantized to cents."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise InvalidMoneyError(f"amount must be a Decimal, not {type(self.amount).__name__}")
        if self.currency not in SUPPORTED_CURRENCIES:
            raise InvalidMoneyError(f"unsupported currency {self.currency!r}")
        amount = self.amount
        if not amount.is_finite():
            raise InvalidMoneyError(f"amount must be finite, got {amount}")
        if amount < 0:
            raise InvalidMoneyError(f"amount must not be negative, got {amount}")
        if amount > MAX_AMOUNT:
            raise InvalidMoneyError(f"amount must not exceed {MAX_AMOUNT}, got {amount}")
        if amount != amount.quantize(CENT):
            raise InvalidMoneyError(f"amount has more than two decimals: {amount}")
        # "+ 0" turns a negative zero into zero; quantize gives every amount two decimals.
        object.__setattr__(self, "amount", (amount + 0).quantize(CENT))

    @classmethod
    def of(cls, amount: object, currency: str) -> Money:
        """Build money from a ``Decimal``, ``int`` or decimal string; floats are refused."""
        return cls(_to_decimal(amount), currency.strip().upper())

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def from_minor_units(cls, cents: int, currency: str) -> Money:
        """Build money from an integer number of cents, as stored in the database."""
        if isinstance(cents, bool) or not isinstance(cents, int):
            raise InvalidMoneyError(f"minor units must be an int, not {type(cents).__name__}")
        return cls(Decimal(cents).scaleb(-2), currency)

    def to_minor_units(self) -> int:
        """Return the amount as an integer number of cents."""
        return int(self.amount.scaleb(2))

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    def _check_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatchError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._check_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        """Subtract; a negative result raises ``InvalidMoneyError``."""
        self._check_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._check_currency(other)
        return self.amount < other.amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
