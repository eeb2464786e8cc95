from __future__ import annotations

import pytest
from blogshop.utils.slugs import DEFAULT_MAX_LENGTH, slugify, unique_slug


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Hello, World!", "hello-world"),
        ("Crème Brûlée: 10 tips!", "creme-brulee-10-tips"),
        ("Straße & Ærøskøbing", "strasse-aeroskobing"),
        ("Łódź in œuvre", "lodz-in-oeuvre"),
        ("ﬁnal ① draft", "final-1-draft"),  # NFKD unfolds ligatures and circled digits
        ("  --already-slugged--  ", "already-slugged"),
        ("snake_case and CamelCase", "snake-case-and-camelcase"),
        ("日本語のタイトル", ""),
        ("", ""),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


@pytest.mark.parametrize(
    ("text", "max_length", "slug"),
    [
        ("alpha beta gamma", 12, "alpha-beta"),  # cut inside a word: drop the partial word
        ("alpha beta gamma", 10, "alpha-beta"),  # cut on a word boundary: keep every word
        ("alpha beta gamma", 6, "alpha"),  # cut just after a hyphen
        ("abcdefghij", 4, "abcd"),  # one long word is cut where it must be
        ("alpha beta", 100, "alpha-beta"),
    ],
)
def test_long_slugs_are_cut_at_word_boundaries(text: str, max_length: int, slug: str) -> None:
    assert slugify(text, max_length=max_length) == slug


def test_default_length_limit() -> None:
    slug = slugify("word " * 100)

    assert len(slug) <= DEFAULT_MAX_LENGTH
    assert slug.startswith("word-word")
    assert slug.endswith("word")


def test_max_length_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_length"):
        slugify("anything", max_length=0)


@pytest.mark.parametrize(
    ("taken", "expected"),
    [
        (set(), "hello"),
        ({"hello-world"}, "hello"),
        ({"hello"}, "hello-2"),
        ({"hello", "hello-2", "hello-3"}, "hello-4"),
        ({"hello", "hello-3"}, "hello-2"),
    ],
)
def test_unique_slug_appends_the_first_free_number(taken: set[str], expected: str) -> None:
    assert unique_slug("hello", taken) == expected


def test_unique_slug_needs_a_base() -> None:
    with pytest.raises(ValueError, match="empty"):
        unique_slug("", set())
