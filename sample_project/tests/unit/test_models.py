from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from blogshop.models import Charge, ChargeStatus, EmailVerification, Post, PostStatus
from blogshop.payments.errors import InvalidMoneyError
from blogshop.payments.money import Money

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def charge(amount: str, refunded: str) -> Charge:
    return Charge(
        id=1,
        customer_id=1,
        amount=Money.of(amount, "EUR"),
        refunded=Money.of(refunded, "EUR"),
        idempotency_key="key",
        description="",
        created_at=NOW,
    )


@pytest.mark.parametrize(
    ("refunded", "status", "refundable"),
    [
        ("0", ChargeStatus.SUCCEEDED, "10.00"),
        ("2.50", ChargeStatus.PARTIALLY_REFUNDED, "7.50"),
        ("10", ChargeStatus.REFUNDED, "0.00"),
    ],
)
def test_charge_status_follows_refunds(
    refunded: str, status: ChargeStatus, refundable: str
) -> None:
    subject = charge("10.00", refunded)

    assert subject.status is status
    assert subject.refundable == Money.of(refundable, "EUR")
    assert subject.currency == "EUR"


def test_a_charge_cannot_be_over_refunded() -> None:
    with pytest.raises(InvalidMoneyError):
        _ = charge("10.00", "10.01").refundable


def test_verification_expiry_and_use() -> None:
    record = EmailVerification(id=1, user_id=1, token_hash="h", expires_at=NOW)

    assert not record.is_used
    assert not record.is_expired(NOW - timedelta(microseconds=1))
    assert record.is_expired(NOW)
    assert EmailVerification(1, 1, "h", NOW, used_at=NOW).is_used


def test_post_publication_state() -> None:
    draft = Post(1, 1, "Title", "title", "Body", PostStatus.DRAFT, NOW, NOW)

    assert not draft.is_published
    assert draft.published_at is None
    assert Post(1, 1, "T", "t", "B", PostStatus.PUBLISHED, NOW, NOW, NOW).is_published
