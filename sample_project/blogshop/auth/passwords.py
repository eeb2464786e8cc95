"""Password hashing with PBKDF2-HMAC-SHA256 and a password policy.

Hashes are stored as ``pbkdf2_sha256$<iterations>$<salt>$<digest>`` (salt and digest in
unpadded base64url), so the parameters travel with each hash and can be raised over time:
``needs_rehash`` tells when a stored hash was made with weaker settings than the current ones.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from blogshop.auth.encoding import b64url_decode, b64url_encode
from blogshop.auth.errors import MalformedHashError, PasswordPolicyError

ALGORITHM = "pbkdf2_sha256"
DEFAULT_ITERATIONS = 600_000  # OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256
MIN_ITERATIONS = 1_000
SALT_BYTES = 16

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128  # bounds the work an attacker can make us do per attempt
_DIGITS = re.compile(r"[0-9]+")
COMMON_PASSWORDS = frozenset(
    {"password123", "qwerty12345", "1234567890", "letmein1234", "iloveyou123", "password1234"}
)


def validate_password(password: str) -> None:
    """Raise ``PasswordPolicyError`` listing every rule that ``password`` breaks."""
    problems: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"must be at most {MAX_PASSWORD_LENGTH} characters long")
    if not any(char.isalpha() for char in password):
        problems.append("must contain a letter")
    if not any(char.isdigit() for char in password):
        problems.append("must contain a digit")
    if password.lower() in COMMON_PASSWORDS:
        problems.append("is too common")
    if problems:
        raise PasswordPolicyError(problems)


@dataclass(frozen=True, slots=True)
class ParsedHash:
    """The parts of an encoded password hash."""

    iterations: int
    salt: bytes
    digest: bytes


def parse_hash(encoded: str) -> ParsedHash:
    """Split an encoded hash into its parts, refusing anything we did not produce."""
    parts = encoded.split("$")
    if len(parts) != 4:
        raise MalformedHashError("expected algorithm$iterations$salt$digest")
    algorithm, iterations_text, salt_text, digest_text = parts
    if algorithm != ALGORITHM:
        raise MalformedHashError(f"unsupported password hash algorithm {algorithm!r}")
    if not _DIGITS.fullmatch(iterations_text) or int(iterations_text) < MIN_ITERATIONS:
        raise MalformedHashError(f"invalid iteration count {iterations_text!r}")
    try:
        salt = b64url_decode(salt_text)
        digest = b64url_decode(digest_text)
    except ValueError as exc:  # binascii.Error and UnicodeEncodeError are ValueErrors
        raise MalformedHashError("salt or digest is not valid base64url") from exc
    if not salt or not digest:
        raise MalformedHashError("salt and digest must not be empty")
    return ParsedHash(iterations=int(iterations_text), salt=salt, digest=digest)


@dataclass(frozen=True, slots=True)
class PasswordHasher:
    """Hashes and verifies passwords; ``iterations`` is lowered in tests to keep them fast."""

    iterations: int = DEFAULT_ITERATIONS

    def __post_init__(self) -> None:
        if self.iterations < MIN_ITERATIONS:
            raise ValueError(f"iterations must be at least {MIN_ITERATIONS}")

    @staticmethod
    def _derive(password: str, salt: bytes, iterations: int) -> bytes:
        return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)

    def hash(self, password: str) -> str:
        """Return the encoded hash of ``password`` with a fresh random salt."""
        salt = secrets.token_bytes(SALT_BYTES)
        digest = self._derive(password, salt, self.iterations)
        return f"{ALGORITHM}${self.iterations}${b64url_encode(salt)}${b64url_encode(digest)}"

    def verify(self, password: str, encoded: str) -> bool:
        """Return whether ``password`` matches ``encoded``, comparing in constant time.

        A malformed ``encoded`` hash raises ``MalformedHashError``: it is a data problem to
        surface, not a wrong password.
        """
        parsed = parse_hash(encoded)
        candidate = self._derive(password, parsed.salt, parsed.iterations)
        return hmac.compare_digest(candidate, parsed.digest)

    def needs_rehash(self, encoded: str) -> bool:
        """Return whether ``encoded`` was made with fewer iterations than this hasher uses."""
        return parse_hash(encoded).iterations < self.iterations
