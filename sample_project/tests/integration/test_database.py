from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from blogshop import db
from blogshop.db import Database, DatabaseClosedError, UniqueViolationError
from blogshop.models import User
from blogshop.payments.money import Money
from blogshop.utils.clock import FrozenClock

MakeUser = Callable[..., Awaitable[User]]


def table_names(connection: sqlite3.Connection) -> set[str]:
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row["name"] for row in rows}


def pragma(connection: sqlite3.Connection, name: str) -> object:
    return connection.execute(f"PRAGMA {name}").fetchone()[0]


async def test_connect_creates_the_schema(database: Database) -> None:
    assert await database.run(table_names) == {
        "users",
        "posts",
        "charges",
        "refunds",
        "email_verifications",
    }
    assert await database.run(pragma, "journal_mode") == "wal"
    assert await database.run(pragma, "foreign_keys") == 1
    assert await database.run(pragma, "synchronous") == 0  # the fixture asks for OFF


async def test_data_survives_reconnecting(tmp_path: Path, clock: FrozenClock) -> None:
    path = tmp_path / "shop.sqlite3"
    async with await Database.connect(path) as first:
        await first.run(
            db.insert_user,
            email="ada@example.com",
            display_name="Ada",
            password_hash="h",
            created_at=clock(),
        )
    assert first.closed

    async with await Database.connect(path) as second:
        user = await second.run(db.get_user_by_email, "ada@example.com")

        synchronous = await second.run(pragma, "synchronous")

    assert user is not None
    assert (user.display_name, user.created_at, user.email_verified) == ("Ada", clock(), False)
    assert synchronous == 1  # NORMAL, the production default


async def test_a_failing_transaction_is_rolled_back(database: Database, clock: FrozenClock) -> None:
    def insert_then_fail(connection: sqlite3.Connection) -> None:
        db.insert_user(
            connection,
            email="ada@example.com",
            display_name="Ada",
            password_hash="h",
            created_at=clock(),
        )
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await database.run(insert_then_fail)

    assert await database.run(db.get_user_by_email, "ada@example.com") is None


async def test_a_closed_database_refuses_work(tmp_path: Path) -> None:
    database = await Database.connect(tmp_path / "shop.sqlite3")
    await database.close()
    await database.close()  # closing twice is harmless

    with pytest.raises(DatabaseClosedError):
        await database.run(db.get_user, 1)


async def test_connect_refuses_an_unknown_synchronous_mode(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="synchronous must be one of"):
        await Database.connect(tmp_path / "shop.sqlite3", synchronous="SOMETIMES")  # type: ignore[arg-type]
    assert not (tmp_path / "shop.sqlite3").exists()


async def test_connect_reports_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"these are not the tables you are looking for\n" * 100)

    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        await Database.connect(path)


async def test_connect_reports_an_unopenable_path(tmp_path: Path) -> None:
    with pytest.raises(sqlite3.OperationalError):
        await Database.connect(tmp_path / "missing-folder" / "shop.sqlite3")


async def test_duplicate_emails_violate_uniqueness(make_user: MakeUser) -> None:
    await make_user("ada@example.com")

    with pytest.raises(UniqueViolationError, match=r"ada@example\.com"):
        await make_user("ada@example.com")


async def test_foreign_keys_are_enforced(database: Database, clock: FrozenClock) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        await database.run(
            db.insert_post, author_id=999, title="T", base_slug="t", body="B", created_at=clock()
        )


async def test_the_schema_refuses_refunding_more_than_charged(
    database: Database, make_user: MakeUser, clock: FrozenClock
) -> None:
    user = await make_user()
    charge = await database.run(
        db.insert_charge,
        customer_id=user.id,
        idempotency_key="k",
        amount=Money.of("5.00", "EUR"),
        description="",
        created_at=clock(),
    )

    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        await database.run(
            db.record_refund,
            charge_id=charge.id,
            amount=Money.of("5.01", "EUR"),
            created_at=clock(),
        )
    assert await database.run(db.list_refunds, charge.id) == []


async def test_slugs_are_made_unique_inside_the_insert(
    database: Database, make_user: MakeUser, clock: FrozenClock
) -> None:
    author = await make_user()

    async def insert(base_slug: str) -> str:
        post = await database.run(
            db.insert_post,
            author_id=author.id,
            title=base_slug,
            base_slug=base_slug,
            body="B",
            created_at=clock(),
        )
        return post.slug

    assert await insert("hello-world") == "hello-world"
    assert await insert("hello") == "hello"  # "hello-world" does not take "hello"
    assert await insert("hello") == "hello-2"
    # Concurrent inserts are serialised by the database thread, so none collide.
    slugs = await asyncio.gather(*(insert("hello") for _ in range(5)))
    assert sorted(slugs) == [f"hello-{n}" for n in range(3, 8)]


async def test_concurrent_transactions_do_not_interleave(
    database: Database, make_user: MakeUser
) -> None:
    user = await make_user()

    def read_modify_write(connection: sqlite3.Connection) -> None:
        current = db.get_user(connection, user.id)
        assert current is not None
        db.update_password_hash(connection, user.id, current.password_hash + "x")

    await asyncio.gather(*(database.run(read_modify_write) for _ in range(20)))

    stored = await database.run(db.get_user, user.id)
    assert stored is not None
    assert stored.password_hash == "not-a-real-hash" + "x" * 20
