"""Payments: money, charges, refunds and idempotency keys."""
