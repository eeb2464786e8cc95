from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from blogshop.models import PostStatus, User
from blogshop.services.errors import (
    EmailNotVerifiedError,
    InvalidInputError,
    NotPostAuthorError,
    PostAlreadyPublishedError,
    PostNotFoundError,
    UserNotFoundError,
)
from blogshop.services.posts import MAX_TITLE_LENGTH, PostService
from blogshop.utils.clock import FrozenClock
from blogshop.utils.pagination import PageRequest

MakeUser = Callable[..., Awaitable[User]]


async def test_create_makes_a_draft_with_a_slug(
    posts: PostService, make_user: MakeUser, clock: FrozenClock
) -> None:
    author = await make_user()

    post = await posts.create(author_id=author.id, title="  Crème Brûlée 101 ", body="Whisk.\n")

    assert (post.title, post.slug, post.body) == ("Crème Brûlée 101", "creme-brulee-101", "Whisk.")
    assert post.status is PostStatus.DRAFT
    assert (post.created_at, post.updated_at, post.published_at) == (clock(), clock(), None)
    assert await posts.get(post.id, viewer_id=author.id) == post


async def test_slugs_stay_unique_and_never_empty(posts: PostService, make_user: MakeUser) -> None:
    author = await make_user()

    first = await posts.create(author_id=author.id, title="Hello", body="1")
    second = await posts.create(author_id=author.id, title="hello!", body="2")
    unicode_only = await posts.create(author_id=author.id, title="日本語", body="3")
    concurrent = await asyncio.gather(
        *(posts.create(author_id=author.id, title="Hello", body="x") for _ in range(3))
    )

    assert (first.slug, second.slug, unicode_only.slug) == ("hello", "hello-2", "post")
    assert sorted(post.slug for post in concurrent) == ["hello-3", "hello-4", "hello-5"]


@pytest.mark.parametrize(
    ("title", "body", "field"),
    [
        ("", "Body", "title"),
        ("T" * (MAX_TITLE_LENGTH + 1), "Body", "title"),
        ("Two\nlines", "Body", "title"),
        ("Title", "  \n ", "body"),
    ],
)
async def test_create_validates_title_and_body(
    posts: PostService, make_user: MakeUser, title: str, body: str, field: str
) -> None:
    author = await make_user()

    with pytest.raises(InvalidInputError) as caught:
        await posts.create(author_id=author.id, title=title, body=body)
    assert caught.value.field == field


async def test_create_needs_an_existing_author(posts: PostService) -> None:
    with pytest.raises(UserNotFoundError):
        await posts.create(author_id=42, title="Title", body="Body")


async def test_the_author_can_edit_and_the_slug_stays(
    posts: PostService, make_user: MakeUser, clock: FrozenClock
) -> None:
    author = await make_user()
    post = await posts.create(author_id=author.id, title="First title", body="Body")
    clock.advance(timedelta(minutes=5))

    renamed = await posts.edit(post_id=post.id, actor_id=author.id, title="Second title")
    rewritten = await posts.edit(post_id=post.id, actor_id=author.id, body="New body")

    assert (renamed.title, renamed.body, renamed.slug) == ("Second title", "Body", "first-title")
    assert (rewritten.title, rewritten.body) == ("Second title", "New body")
    assert rewritten.updated_at == clock() > rewritten.created_at
    assert await posts.get(post.id, viewer_id=author.id) == rewritten


async def test_only_the_author_can_edit(posts: PostService, make_user: MakeUser) -> None:
    author, other = await make_user("ada@example.com"), await make_user("bob@example.com")
    post = await posts.create(author_id=author.id, title="Mine", body="Body")

    with pytest.raises(NotPostAuthorError):
        await posts.edit(post_id=post.id, actor_id=other.id, title="Yours now")
    assert (await posts.get(post.id, viewer_id=author.id)).title == "Mine"


async def test_edit_needs_a_change_and_an_existing_post(
    posts: PostService, make_user: MakeUser
) -> None:
    author = await make_user()
    post = await posts.create(author_id=author.id, title="Title", body="Body")

    with pytest.raises(InvalidInputError, match="nothing to change"):
        await posts.edit(post_id=post.id, actor_id=author.id)
    with pytest.raises(InvalidInputError):
        await posts.edit(post_id=post.id, actor_id=author.id, title="")
    with pytest.raises(PostNotFoundError):
        await posts.edit(post_id=post.id + 1, actor_id=author.id, body="Body")


async def test_publishing_needs_a_verified_author(
    posts: PostService, make_user: MakeUser, clock: FrozenClock
) -> None:
    unverified, verified = (
        await make_user("u@example.com"),
        await make_user("v@example.com", verified=True),
    )
    draft = await posts.create(author_id=unverified.id, title="Draft", body="Body")
    ready = await posts.create(author_id=verified.id, title="Ready", body="Body")

    with pytest.raises(EmailNotVerifiedError):
        await posts.publish(post_id=draft.id, actor_id=unverified.id)
    with pytest.raises(NotPostAuthorError):
        await posts.publish(post_id=ready.id, actor_id=unverified.id)

    published = await posts.publish(post_id=ready.id, actor_id=verified.id)
    assert published.is_published
    assert published.published_at == clock()
    with pytest.raises(PostAlreadyPublishedError):
        await posts.publish(post_id=ready.id, actor_id=verified.id)


async def test_drafts_are_visible_to_their_author_only(
    posts: PostService, make_user: MakeUser
) -> None:
    author, reader = (
        await make_user("a@example.com", verified=True),
        await make_user("r@example.com"),
    )
    post = await posts.create(author_id=author.id, title="Secret", body="Body")

    for viewer_id in (None, reader.id):
        with pytest.raises(PostNotFoundError):
            await posts.get(post.id, viewer_id=viewer_id)

    await posts.publish(post_id=post.id, actor_id=author.id)
    assert (await posts.get(post.id)).slug == "secret"
    with pytest.raises(PostNotFoundError):
        await posts.get(post.id + 1)


async def test_published_posts_are_listed_newest_first_in_pages(
    posts: PostService, make_user: MakeUser, clock: FrozenClock
) -> None:
    author = await make_user(verified=True)
    await posts.create(author_id=author.id, title="Draft stays hidden", body="Body")
    for number in range(1, 6):
        post = await posts.create(author_id=author.id, title=f"Post {number}", body="Body")
        await posts.publish(post_id=post.id, actor_id=author.id)
        clock.advance(timedelta(minutes=1))

    first = await posts.list_published(PageRequest(page=1, per_page=2))
    last = await posts.list_published(PageRequest(page=3, per_page=2))
    everything = await posts.list_published()

    assert [post.title for post in first.items] == ["Post 5", "Post 4"]
    assert [post.title for post in last.items] == ["Post 1"]
    assert (first.total, first.total_pages, first.has_next, last.has_next) == (5, 3, True, False)
    assert len(everything.items) == everything.total == 5
