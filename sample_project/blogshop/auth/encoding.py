"""Unpadded base64url, as used in password hashes and tokens."""

from __future__ import annotations

import base64


def b64url_encode(raw: bytes) -> str:
    """Encode ``raw`` as base64url without ``=`` padding."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url strictly.

    Raises ``ValueError`` (``binascii.Error`` or ``UnicodeEncodeError``) for any character
    outside the alphabet or an impossible length, instead of silently skipping junk.
    """
    padded = (text + "=" * (-len(text) % 4)).encode("ascii")
    return base64.b64decode(padded, altchars=b"-_", validate=True)
