from __future__ import annotations

import pytest
from blogshop.auth.errors import MalformedHashError, PasswordPolicyError
from blogshop.auth.passwords import (
    ALGORITHM,
    DEFAULT_ITERATIONS,
    PasswordHasher,
    parse_hash,
    validate_password,
)
from blogshop.errors import ValidationError

PASSWORD = "correct horse 42"


def test_hash_verifies_the_right_password_only(hasher: PasswordHasher) -> None:
    encoded = hasher.hash(PASSWORD)

    assert hasher.verify(PASSWORD, encoded)
    assert not hasher.verify("correct horse 43", encoded)
    assert not hasher.verify("", encoded)


def test_encoded_hash_names_algorithm_iterations_and_a_random_salt(
    hasher: PasswordHasher,
) -> None:
    first, second = hasher.hash(PASSWORD), hasher.hash(PASSWORD)

    algorithm, iterations, _salt, _digest = first.split("$")
    assert (algorithm, int(iterations)) == (ALGORITHM, hasher.iterations)
    assert len(parse_hash(first).salt) == 16
    assert len(parse_hash(first).digest) == 32  # SHA-256
    assert PASSWORD not in first
    assert first != second  # a fresh salt every time
    assert parse_hash(first).salt != parse_hash(second).salt


def test_default_hasher_uses_a_strong_iteration_count() -> None:
    assert PasswordHasher().iterations == DEFAULT_ITERATIONS >= 600_000


def test_verify_uses_the_iterations_stored_in_the_hash(hasher: PasswordHasher) -> None:
    encoded = hasher.hash(PASSWORD)
    stronger = PasswordHasher(iterations=hasher.iterations * 2)

    assert stronger.verify(PASSWORD, encoded)
    assert stronger.needs_rehash(encoded)
    assert not hasher.needs_rehash(encoded)
    assert not hasher.needs_rehash(stronger.hash(PASSWORD))


def test_a_tampered_digest_does_not_verify(hasher: PasswordHasher) -> None:
    algorithm, iterations, salt, digest = hasher.hash(PASSWORD).split("$")
    flipped = ("B" if digest[0] == "A" else "A") + digest[1:]

    assert not hasher.verify(PASSWORD, f"{algorithm}${iterations}${salt}${flipped}")


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "pbkdf2_sha256$1000$c2FsdA",
        "pbkdf2_sha256$1000$c2FsdA$ZGlnZXN0$extra",
        "md5$1000$c2FsdA$ZGlnZXN0",
        "pbkdf2_sha256$many$c2FsdA$ZGlnZXN0",
        "pbkdf2_sha256$999$c2FsdA$ZGlnZXN0",
        "pbkdf2_sha256$\u0661\u0660\u0660\u0660$c2FsdA$ZGlnZXN0",  # Arabic-Indic 1000
        "pbkdf2_sha256$1000$not base64!$ZGlnZXN0",
        "pbkdf2_sha256$1000$c2FsdA$é",
        "pbkdf2_sha256$1000$$ZGlnZXN0",
        "pbkdf2_sha256$1000$c2FsdA$",
    ],
)
def test_malformed_hashes_are_rejected(hasher: PasswordHasher, encoded: str) -> None:
    with pytest.raises(MalformedHashError):
        hasher.verify(PASSWORD, encoded)


def test_hasher_refuses_too_few_iterations() -> None:
    with pytest.raises(ValueError, match="at least 1000"):
        PasswordHasher(iterations=10)


def test_a_good_password_passes_the_policy() -> None:
    validate_password(PASSWORD)  # does not raise


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short1", "at least 10 characters"),
        ("a1" * 65, "at most 128 characters"),
        ("12345678901", "must contain a letter"),
        ("abcdefghijkl", "must contain a digit"),
        ("Password123", "too common"),
    ],
)
def test_the_policy_names_the_broken_rule(password: str, problem: str) -> None:
    with pytest.raises(PasswordPolicyError, match=problem) as caught:
        validate_password(password)

    assert len(caught.value.problems) == 1
    assert problem in caught.value.problems[0]


def test_the_policy_lists_every_broken_rule_at_once() -> None:
    with pytest.raises(PasswordPolicyError) as caught:
        validate_password("abc")

    assert caught.value.problems == ["must be at least 10 characters long", "must contain a digit"]
    assert isinstance(caught.value, ValidationError)
