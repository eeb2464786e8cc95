"""Domain records, as immutable dataclasses shared by the database, services and API."""

from __future__ import annotations

from blogshop.models.charges import Charge, ChargeStatus, Refund
from blogshop.models.posts import Post, PostStatus
from blogshop.models.users import User
from blogshop.models.verification import EmailVerification

__all__ = [
    "Charge",
    "ChargeStatus",
    "EmailVerification",
    "Post",
    "PostStatus",
    "Refund",
    "User",
]
