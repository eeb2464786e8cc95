from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from blogshop.errors import ValidationError
from blogshop.payments.errors import CurrencyMismatchError, InvalidMoneyError
from blogshop.payments.money import Money


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("12.5", "EUR", "12.50 EUR"),
        (" 7.05 ", "usd", "7.05 USD"),
        (10, "GBP", "10.00 GBP"),
        (Decimal("0.1"), "CHF", "0.10 CHF"),
        ("1.500", "SEK", "1.50 SEK"),  # trailing zeros are not extra precision
        ("1E+2", "EUR", "100.00 EUR"),
        ("-0", "EUR", "0.00 EUR"),
        ("1000000000.00", "EUR", "1000000000.00 EUR"),
    ],
)
def test_amounts_are_quantized_to_cents(amount: object, currency: str, expected: str) -> None:
    money = Money.of(amount, currency)

    assert str(money) == expected
    assert money.amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "amount",
    [
        1.5,  # floats cannot hold cents exactly
        True,
        None,
        ["1"],
        "",
        "twelve",
        "NaN",
        "sNaN",
        "Infinity",
        "-0.01",
        -1,
        "12.345",
        Decimal("0.001"),
        "1000000000.01",
    ],
)
def test_invalid_amounts_are_refused(amount: object) -> None:
    with pytest.raises(InvalidMoneyError):
        Money.of(amount, "EUR")


@pytest.mark.parametrize("currency", ["", "EURO", "XYZ", "JPY"])
def test_unsupported_currencies_are_refused(currency: str) -> None:
    with pytest.raises(InvalidMoneyError, match="currency"):
        Money.of("1.00", currency)


def test_the_constructor_only_takes_decimals() -> None:
    with pytest.raises(InvalidMoneyError, match="must be a Decimal"):
        Money(5, "EUR")  # type: ignore[arg-type]


def test_money_errors_are_validation_errors() -> None:
    assert issubclass(InvalidMoneyError, ValidationError)
    assert issubclass(CurrencyMismatchError, ValidationError)


def test_arithmetic_is_exact() -> None:
    total = Money.of("0.10", "EUR") + Money.of("0.20", "EUR")

    assert total == Money.of("0.30", "EUR")
    assert total - Money.of("0.30", "EUR") == Money.zero("EUR")
    assert (total - Money.of("0.30", "EUR")).is_zero
    assert not total.is_zero


def test_subtraction_cannot_go_negative() -> None:
    with pytest.raises(InvalidMoneyError, match="negative"):
        Money.of("1.00", "EUR") - Money.of("1.01", "EUR")


def test_different_currencies_do_not_mix() -> None:
    euros, dollars = Money.of("1.00", "EUR"), Money.of("1.00", "USD")

    assert euros != dollars
    with pytest.raises(CurrencyMismatchError):
        euros + dollars
    with pytest.raises(CurrencyMismatchError):
        euros - dollars
    with pytest.raises(CurrencyMismatchError):
        _ = euros < dollars


def test_money_is_ordered_within_a_currency() -> None:
    small, large = Money.of("9.99", "EUR"), Money.of("10.00", "EUR")

    assert small < large
    assert small <= large
    assert large > small
    assert large >= Money.of("10", "EUR")
    assert sorted([large, small]) == [small, large]


@pytest.mark.parametrize(("cents", "amount"), [(0, "0.00"), (1, "0.01"), (1250, "12.50")])
def test_minor_units_round_trip(cents: int, amount: str) -> None:
    money = Money.from_minor_units(cents, "EUR")

    assert money == Money.of(amount, "EUR")
    assert money.to_minor_units() == cents


@pytest.mark.parametrize("cents", [True, 1.0, "100"])
def test_minor_units_must_be_an_int(cents: object) -> None:
    with pytest.raises(InvalidMoneyError, match="minor units"):
        Money.from_minor_units(cents, "EUR")  # type: ignore[arg-type]


def test_money_is_immutable_and_hashable() -> None:
    money = Money.of("1.00", "EUR")

    with pytest.raises(dataclasses.FrozenInstanceError):
        money.amount = Decimal("2.00")  # type: ignore[misc]
    assert {money, Money.of("1", "EUR")} == {money}
