"""Async access to a SQLite database, and the repository functions built on it.

``sqlite3`` is blocking, so every call runs on one dedicated worker thread that owns the
connection (``Database.run``). One thread means one writer at a time, and each ``run`` call is
a single ``BEGIN IMMEDIATE ... COMMIT`` transaction: a service that reads, decides and writes
inside one ``run`` call can never interleave with another request.

The repository functions below are plain synchronous functions of a connection, so services
compose them inside one transaction, or call one directly::

    charge = await db.run(get_charge, charge_id)
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Concatenate, Literal, ParamSpec, TypeVar

from blogshop.models import Charge, EmailVerification, Post, PostStatus, Refund, User
from blogshop.payments.money import Money
from blogshop.utils.clock import format_iso, parse_iso
from blogshop.utils.slugs import unique_slug

P = ParamSpec("P")
T = TypeVar("T")

Synchronous = Literal["FULL", "NORMAL", "OFF"]
"""SQLite's ``PRAGMA synchronous``: how hard each commit waits for the disk."""
SYNCHRONOUS_MODES: tuple[Synchronous, ...] = ("FULL", "NORMAL", "OFF")

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id             INTEGER PRIMARY KEY,
    email          TEXT    NOT NULL UNIQUE,
    display_name   TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,
    email_verified INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1)),
    created_at     TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS posts (
    id           INTEGER PRIMARY KEY,
    author_id    INTEGER NOT NULL REFERENCES users (id),
    title        TEXT    NOT NULL,
    slug         TEXT    NOT NULL UNIQUE,
    body         TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('draft', 'published')),
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    published_at TEXT
);
CREATE INDEX IF NOT EXISTS posts_by_publication ON posts (status, published_at, id);
CREATE TABLE IF NOT EXISTS charges (
    id              INTEGER PRIMARY KEY,
    customer_id     INTEGER NOT NULL REFERENCES users (id),
    idempotency_key TEXT    NOT NULL,
    amount_minor    INTEGER NOT NULL CHECK (amount_minor > 0),
    refunded_minor  INTEGER NOT NULL DEFAULT 0
                    CHECK (refunded_minor BETWEEN 0 AND amount_minor),
    currency        TEXT    NOT NULL,
    description     TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    UNIQUE (customer_id, idempotency_key)
);
CREATE TABLE IF NOT EXISTS refunds (
    id           INTEGER PRIMARY KEY,
    charge_id    INTEGER NOT NULL REFERENCES charges (id),
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    created_at   TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS email_verifications (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    token_hash TEXT    NOT NULL UNIQUE,
    expires_at TEXT    NOT NULL,
    used_at    TEXT,
    created_at TEXT    NOT NULL
);
"""


class DatabaseClosedError(RuntimeError):
    """The database was used after ``close()``."""


class UniqueViolationError(Exception):
    """An insert would break a UNIQUE constraint."""


def _open(path: str, synchronous: Synchronous) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; Database.run opens them explicitly.
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute(f"PRAGMA synchronous = {synchronous}")
        # Write-ahead logging lets readers in other processes run while we write; with it,
        # synchronous=NORMAL is still safe from corruption (a power cut may lose the last commit).
        connection.execute("PRAGMA journal_mode = WAL")
        connection.executescript(f"BEGIN; {SCHEMA} COMMIT;")
    except BaseException:
        connection.close()
        raise
    return connection


class Database:
    """A SQLite connection owned by one worker thread. Create it with ``Database.connect``."""

    def __init__(self, connection: sqlite3.Connection, executor: ThreadPoolExecutor) -> None:
        self._connection = connection
        self._executor = executor
        self._closed = False

    @classmethod
    async def connect(cls, path: str | Path, *, synchronous: Synchronous = "NORMAL") -> Database:
        """Open (creating if needed) the database at ``path`` and ensure the schema exists.

        ``synchronous="OFF"`` skips waiting for the disk on commit: much faster, but a power
        cut can corrupt the file, so it is only for tests and throwaway databases.
        """
        if synchronous not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}, not {synchronous!r}")
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="blogshop-db")
        loop = asyncio.get_running_loop()
        try:
            connection = await loop.run_in_executor(executor, _open, str(path), synchronous)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(connection, executor)

    @property
    def closed(self) -> bool:
        return self._closed

    async def run(
        self,
        fn: Callable[Concatenate[sqlite3.Connection, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``fn(connection, *args, **kwargs)`` in one transaction on the database thread.

        The transaction commits when ``fn`` returns and rolls back when it raises.
        """
        if self._closed:
            raise DatabaseClosedError("the database is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, lambda: self._transaction(fn, *args, **kwargs)
        )

    def _transaction(
        self,
        fn: Callable[Concatenate[sqlite3.Connection, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            result = fn(connection, *args, **kwargs)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return result

    async def close(self) -> None:
        """Close the connection and stop the worker thread; closing twice is harmless."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._connection.close)
        self._executor.shutdown(wait=True)

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


# --- helpers -------------------------------------------------------------------------------


def _inserted_id(cursor: sqlite3.Cursor) -> int:
    row_id = cursor.lastrowid
    assert row_id is not None, "an INSERT always sets lastrowid"
    return row_id


def _optional_time(value: str | None) -> datetime | None:
    return None if value is None else parse_iso(value)


# --- users ---------------------------------------------------------------------------------


def _user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        password_hash=row["password_hash"],
        email_verified=bool(row["email_verified"]),
        created_at=parse_iso(row["created_at"]),
    )


def insert_user(
    connection: sqlite3.Connection,
    *,
    email: str,
    display_name: str,
    password_hash: str,
    created_at: datetime,
) -> User:
    """Insert a user; raises ``UniqueViolationError`` when the email is taken."""
    try:
        cursor = connection.execute(
            "INSERT INTO users (email, display_name, password_hash, created_at)"
            " VALUES (?, ?, ?, ?)",
            (email, display_name, password_hash, format_iso(created_at)),
        )
    except sqlite3.IntegrityError as exc:
        raise UniqueViolationError(f"a user with email {email!r} already exists") from exc
    return User(
        id=_inserted_id(cursor),
        email=email,
        display_name=display_name,
        password_hash=password_hash,
        email_verified=False,
        created_at=created_at,
    )


def get_user(connection: sqlite3.Connection, user_id: int) -> User | None:
    row = connection.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    return None if row is None else _user(row)


def get_user_by_email(connection: sqlite3.Connection, email: str) -> User | None:
    row = connection.execute("SELECT * FROM users WHERE email = ?", (email,)).fetchone()
    return None if row is None else _user(row)


def update_password_hash(connection: sqlite3.Connection, user_id: int, password_hash: str) -> None:
    connection.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))


def mark_email_verified(connection: sqlite3.Connection, user_id: int) -> None:
    connection.execute("UPDATE users SET email_verified = 1 WHERE id = ?", (user_id,))


# --- posts ---------------------------------------------------------------------------------


def _post(row: sqlite3.Row) -> Post:
    return Post(
        id=row["id"],
        author_id=row["author_id"],
        title=row["title"],
        slug=row["slug"],
        body=row["body"],
        status=PostStatus(row["status"]),
        created_at=parse_iso(row["created_at"]),
        updated_at=parse_iso(row["updated_at"]),
        published_at=_optional_time(row["published_at"]),
    )


def insert_post(
    connection: sqlite3.Connection,
    *,
    author_id: int,
    title: str,
    base_slug: str,
    body: str,
    created_at: datetime,
) -> Post:
    """Insert a draft whose slug is ``base_slug``, or ``base_slug-N`` if that one is taken."""
    taken = {
        row["slug"]
        for row in connection.execute(
            "SELECT slug FROM posts WHERE slug = ? OR slug LIKE ?", (base_slug, f"{base_slug}-%")
        )
    }
    slug = unique_slug(base_slug, taken)
    stamp = format_iso(created_at)
    cursor = connection.execute(
        "INSERT INTO posts (author_id, title, slug, body, status, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (author_id, title, slug, body, PostStatus.DRAFT.value, stamp, stamp),
    )
    return Post(
        id=_inserted_id(cursor),
        author_id=author_id,
        title=title,
        slug=slug,
        body=body,
        status=PostStatus.DRAFT,
        created_at=created_at,
        updated_at=created_at,
    )


def get_post(connection: sqlite3.Connection, post_id: int) -> Post | None:
    row = connection.execute("SELECT * FROM posts WHERE id = ?", (post_id,)).fetchone()
    return None if row is None else _post(row)


def save_post(connection: sqlite3.Connection, post: Post) -> None:
    """Store the editable fields of ``post`` (title, body, status and timestamps)."""
    connection.execute(
        "UPDATE posts SET title = ?, body = ?, status = ?, updated_at = ?, published_at = ?"
        " WHERE id = ?",
        (
            post.title,
            post.body,
            post.status.value,
            format_iso(post.updated_at),
            None if post.published_at is None else format_iso(post.published_at),
            post.id,
        ),
    )


def list_published_posts(connection: sqlite3.Connection, *, limit: int, offset: int) -> list[Post]:
    """Published posts, newest first."""
    rows = connection.execute(
        "SELECT * FROM posts WHERE status = ? ORDER BY published_at DESC, id DESC LIMIT ? OFFSET ?",
        (PostStatus.PUBLISHED.value, limit, offset),
    )
    return [_post(row) for row in rows]


def count_published_posts(connection: sqlite3.Connection) -> int:
    row = connection.execute(
        "SELECT COUNT(*) FROM posts WHERE status = ?", (PostStatus.PUBLISHED.value,)
    ).fetchone()
    return int(row[0])


# --- charges and refunds -------------------------------------------------------------------


def _charge(row: sqlite3.Row) -> Charge:
    currency = row["currency"]
    return Charge(
        id=row["id"],
        customer_id=row["customer_id"],
        amount=Money.from_minor_units(row["amount_minor"], currency),
        refunded=Money.from_minor_units(row["refunded_minor"], currency),
        idempotency_key=row["idempotency_key"],
        description=row["description"],
        created_at=parse_iso(row["created_at"]),
    )


def _refund(row: sqlite3.Row) -> Refund:
    return Refund(
        id=row["id"],
        charge_id=row["charge_id"],
        amount=Money.from_minor_units(row["amount_minor"], row["currency"]),
        created_at=parse_iso(row["created_at"]),
    )


def insert_charge(
    connection: sqlite3.Connection,
    *,
    customer_id: int,
    idempotency_key: str,
    amount: Money,
    description: str,
    created_at: datetime,
) -> Charge:
    cursor = connection.execute(
        "INSERT INTO charges"
        " (customer_id, idempotency_key, amount_minor, currency, description, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            customer_id,
            idempotency_key,
            amount.to_minor_units(),
            amount.currency,
            description,
            format_iso(created_at),
        ),
    )
    return Charge(
        id=_inserted_id(cursor),
        customer_id=customer_id,
        amount=amount,
        refunded=Money.zero(amount.currency),
        idempotency_key=idempotency_key,
        description=description,
        created_at=created_at,
    )


def get_charge(connection: sqlite3.Connection, charge_id: int) -> Charge | None:
    row = connection.execute("SELECT * FROM charges WHERE id = ?", (charge_id,)).fetchone()
    return None if row is None else _charge(row)


def find_charge_by_idempotency_key(
    connection: sqlite3.Connection, customer_id: int, idempotency_key: str
) -> Charge | None:
    row = connection.execute(
        "SELECT * FROM charges WHERE customer_id = ? AND idempotency_key = ?",
        (customer_id, idempotency_key),
    ).fetchone()
    return None if row is None else _charge(row)


def record_refund(
    connection: sqlite3.Connection, *, charge_id: int, amount: Money, created_at: datetime
) -> Refund:
    """Insert a refund and add it to the charge's refunded total.

    The CHECK constraint on ``charges.refunded_minor`` is the last line of defence against
    refunding more than was charged; services check first and raise a clear error.
    """
    cursor = connection.execute(
        "INSERT INTO refunds (charge_id, amount_minor, created_at) VALUES (?, ?, ?)",
        (charge_id, amount.to_minor_units(), format_iso(created_at)),
    )
    connection.execute(
        "UPDATE charges SET refunded_minor = refunded_minor + ? WHERE id = ?",
        (amount.to_minor_units(), charge_id),
    )
    return Refund(
        id=_inserted_id(cursor), charge_id=charge_id, amount=amount, created_at=created_at
    )


def list_refunds(connection: sqlite3.Connection, charge_id: int) -> list[Refund]:
    rows = connection.execute(
        "SELECT refunds.*, charges.currency FROM refunds"
        " JOIN charges ON charges.id = refunds.charge_id"
        " WHERE refunds.charge_id = ? ORDER BY refunds.id",
        (charge_id,),
    )
    return [_refund(row) for row in rows]


# --- email verification --------------------------------------------------------------------


def _verification(row: sqlite3.Row) -> EmailVerification:
    return EmailVerification(
        id=row["id"],
        user_id=row["user_id"],
        token_hash=row["token_hash"],
        expires_at=parse_iso(row["expires_at"]),
        used_at=_optional_time(row["used_at"]),
    )


def insert_verification(
    connection: sqlite3.Connection,
    *,
    user_id: int,
    token_hash: str,
    expires_at: datetime,
    created_at: datetime,
) -> EmailVerification:
    cursor = connection.execute(
        "INSERT INTO email_verifications (user_id, token_hash, expires_at, created_at)"
        " VALUES (?, ?, ?, ?)",
        (user_id, token_hash, format_iso(expires_at), format_iso(created_at)),
    )
    return EmailVerification(
        id=_inserted_id(cursor), user_id=user_id, token_hash=token_hash, expires_at=expires_at
    )


def get_verification_by_token_hash(
    connection: sqlite3.Connection, token_hash: str
) -> EmailVerification | None:
    row = connection.execute(
        "SELECT * FROM email_verifications WHERE token_hash = ?", (token_hash,)
    ).fetchone()
    return None if row is None else _verification(row)


def mark_verification_used(
    connection: sqlite3.Connection, verification_id: int, used_at: datetime
) -> None:
    connection.execute(
        "UPDATE email_verifications SET used_at = ? WHERE id = ?",
        (format_iso(used_at), verification_id),
    )
