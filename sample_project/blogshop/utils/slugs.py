"""URL slugs: lowercase ASCII words joined by hyphens."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

# Letters that Unicode decomposition leaves alone but readers expect spelled out.
_TRANSLITERATIONS = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L"}
)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")

DEFAULT_MAX_LENGTH = 80


def slugify(text: str, *, max_length: int = DEFAULT_MAX_LENGTH) -> str:
    """Turn ``text`` into a slug: ``"Crème Brûlée: 10 tips!"`` becomes ``"creme-brulee-10-tips"``.

    Accents are removed through NFKD normalisation, any other run of characters that is not an
    ASCII letter or digit becomes one hyphen, and the result is cut at a word boundary when
    possible. The slug may be empty (e.g. for text in a non-Latin script); callers decide on
    a fallback.
    """
    if max_length < 1:
        raise ValueError(f"max_length must be at least 1, got {max_length}")
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATIONS))
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii")
    slug = _NON_ALNUM.sub("-", ascii_text.lower()).strip("-")
    if len(slug) > max_length:
        cut = slug[:max_length]
        # Prefer ending on a whole word; a single over-long word is cut where it must be.
        if slug[max_length] != "-" and "-" in cut:
            cut = cut.rsplit("-", 1)[0]
        slug = cut
    return slug


def unique_slug(base: str, taken: Collection[str]) -> str:
    """Return ``base``, or ``base-2``, ``base-3``, ... whichever is not yet ``taken``."""
    if not base:
        raise ValueError("base slug must not be empty")
    if base not in taken:
        return base
    suffix = 2
    while f"{base}-{suffix}" in taken:
        suffix += 1
    return f"{base}-{suffix}"
