from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from blogshop.api import App, handle
from blogshop.utils.clock import FrozenClock, format_iso

SignUp = Callable[..., Awaitable[dict[str, str]]]
POST = {"title": "Hello, World!", "body": "First post."}


async def create_post(app: App, headers: dict[str, str], title: str = "Hello, World!") -> int:
    response = await handle(app, "POST", "/posts", {**POST, "title": title}, headers)
    assert response.status == 201, response.body
    post = response.body["post"]
    assert isinstance(post, dict)
    post_id = post["id"]
    assert isinstance(post_id, int)
    return post_id


async def test_create_returns_a_draft_with_a_slug(app: App, sign_up: SignUp) -> None:
    headers = await sign_up()

    response = await handle(app, "POST", "/posts", POST, headers)

    assert response.status == 201
    post = response.body["post"]
    assert isinstance(post, dict)
    assert (post["slug"], post["status"], post["published_at"]) == ("hello-world", "draft", None)


async def test_creating_a_post_needs_a_login(app: App) -> None:
    response = await handle(app, "POST", "/posts", POST)

    assert response.status == 401


async def test_publishing_needs_a_verified_email(app: App, sign_up: SignUp) -> None:
    headers = await sign_up()
    post_id = await create_post(app, headers)

    response = await handle(app, "POST", f"/posts/{post_id}/publish", headers=headers)

    assert response.status == 403
    error = response.body["error"]
    assert isinstance(error, dict)
    assert error["code"] == "email_not_verified"


async def test_publish_then_read_anonymously(app: App, sign_up: SignUp, clock: FrozenClock) -> None:
    headers = await sign_up(verified=True)
    post_id = await create_post(app, headers)
    hidden = await handle(app, "GET", f"/posts/{post_id}")

    published = await handle(app, "POST", f"/posts/{post_id}/publish", headers=headers)
    public = await handle(app, "GET", f"/posts/{post_id}")
    again = await handle(app, "POST", f"/posts/{post_id}/publish", headers=headers)

    assert hidden.status == 404
    assert published.status == 200
    assert public.status == 200
    post = public.body["post"]
    assert isinstance(post, dict)
    assert (post["status"], post["published_at"]) == ("published", format_iso(clock()))
    assert again.status == 409


async def test_authors_see_their_drafts(app: App, sign_up: SignUp) -> None:
    author = await sign_up("ada@example.com")
    reader = await sign_up("bob@example.com")
    post_id = await create_post(app, author)

    assert (await handle(app, "GET", f"/posts/{post_id}", headers=author)).status == 200
    assert (await handle(app, "GET", f"/posts/{post_id}", headers=reader)).status == 404


async def test_only_the_author_can_edit(app: App, sign_up: SignUp) -> None:
    author = await sign_up("ada@example.com")
    other = await sign_up("bob@example.com")
    post_id = await create_post(app, author)

    denied = await handle(app, "PATCH", f"/posts/{post_id}", {"title": "Mine now"}, other)
    edited = await handle(app, "PATCH", f"/posts/{post_id}", {"body": "Edited."}, author)
    empty = await handle(app, "PATCH", f"/posts/{post_id}", {}, author)
    wrong_type = await handle(app, "PATCH", f"/posts/{post_id}", {"title": 1}, author)

    assert denied.status == 403
    assert edited.status == 200
    post = edited.body["post"]
    assert isinstance(post, dict)
    assert (post["title"], post["body"]) == ("Hello, World!", "Edited.")
    assert empty.status == 422
    assert wrong_type.status == 400


async def test_the_post_list_is_paginated(app: App, sign_up: SignUp, clock: FrozenClock) -> None:
    headers = await sign_up(verified=True)
    for number in range(3):
        post_id = await create_post(app, headers, title=f"Post {number}")
        await handle(app, "POST", f"/posts/{post_id}/publish", headers=headers)
        clock.advance(timedelta(seconds=1))

    response = await handle(app, "GET", "/posts?page=2&per_page=2")

    assert response.status == 200
    items = response.body["items"]
    assert isinstance(items, list)
    assert [item["title"] for item in items] == ["Post 0"]
    assert {key: response.body[key] for key in ("page", "per_page", "total", "total_pages")} == {
        "page": 2,
        "per_page": 2,
        "total": 3,
        "total_pages": 2,
    }


@pytest.mark.parametrize("query", ["page=0", "page=abc", "per_page=1000"])
async def test_invalid_pagination_is_unprocessable(app: App, query: str) -> None:
    response = await handle(app, "GET", f"/posts?{query}")

    assert response.status == 422
    error = response.body["error"]
    assert isinstance(error, dict)
    assert error["code"] == "invalid_page"
