"""Blog posts: authors write drafts, publish them, and edit their own posts."""

from __future__ import annotations

import dataclasses
import sqlite3

from blogshop import db
from blogshop.db import Database
from blogshop.models import Post, PostStatus
from blogshop.services.errors import (
    EmailNotVerifiedError,
    InvalidInputError,
    NotPostAuthorError,
    PostAlreadyPublishedError,
    PostNotFoundError,
    UserNotFoundError,
)
from blogshop.services.validation import clean_text
from blogshop.utils.clock import Clock, utc_now
from blogshop.utils.pagination import Page, PageRequest
from blogshop.utils.slugs import slugify

MAX_TITLE_LENGTH = 200
MAX_BODY_LENGTH = 50_000
FALLBACK_SLUG = "post"  # for titles with no Latin letters or digits


def _clean_title(title: str) -> str:
    return clean_text("title", title, max_length=MAX_TITLE_LENGTH)


def _clean_body(body: str) -> str:
    return clean_text("body", body, max_length=MAX_BODY_LENGTH, multiline=True)


def _owned_post(connection: sqlite3.Connection, post_id: int, actor_id: int) -> Post:
    post = db.get_post(connection, post_id)
    if post is None:
        raise PostNotFoundError(f"no post with id {post_id}")
    if post.author_id != actor_id:
        raise NotPostAuthorError("only the author may change this post")
    return post


class PostService:
    def __init__(self, database: Database, *, clock: Clock = utc_now) -> None:
        self._db = database
        self._clock = clock

    async def create(self, *, author_id: int, title: str, body: str) -> Post:
        """Create a draft. Its slug comes from the title and stays stable after edits."""
        clean_title, clean_body = _clean_title(title), _clean_body(body)
        base_slug = slugify(clean_title) or FALLBACK_SLUG
        now = self._clock()

        def insert(connection: sqlite3.Connection) -> Post:
            if db.get_user(connection, author_id) is None:
                raise UserNotFoundError(f"no user with id {author_id}")
            return db.insert_post(
                connection,
                author_id=author_id,
                title=clean_title,
                base_slug=base_slug,
                body=clean_body,
                created_at=now,
            )

        return await self._db.run(insert)

    async def get(self, post_id: int, *, viewer_id: int | None = None) -> Post:
        """Return a published post, or a draft when ``viewer_id`` is its author."""
        post = await self._db.run(db.get_post, post_id)
        if post is None or (not post.is_published and post.author_id != viewer_id):
            raise PostNotFoundError(f"no post with id {post_id}")
        return post

    async def edit(
        self, *, post_id: int, actor_id: int, title: str | None = None, body: str | None = None
    ) -> Post:
        """Change the title and/or body of the actor's own post."""
        if title is None and body is None:
            raise InvalidInputError("post", "nothing to change: give a title or a body")
        new_title = None if title is None else _clean_title(title)
        new_body = None if body is None else _clean_body(body)
        now = self._clock()

        def update(connection: sqlite3.Connection) -> Post:
            post = _owned_post(connection, post_id, actor_id)
            edited = dataclasses.replace(
                post,
                title=post.title if new_title is None else new_title,
                body=post.body if new_body is None else new_body,
                updated_at=now,
            )
            db.save_post(connection, edited)
            return edited

        return await self._db.run(update)

    async def publish(self, *, post_id: int, actor_id: int) -> Post:
        """Publish the actor's own draft; the author needs a verified email address."""
        now = self._clock()

        def publish(connection: sqlite3.Connection) -> Post:
            post = _owned_post(connection, post_id, actor_id)
            if post.is_published:
                raise PostAlreadyPublishedError("the post is already published")
            author = db.get_user(connection, actor_id)
            if author is None or not author.email_verified:
                raise EmailNotVerifiedError("verify your email address before publishing")
            published = dataclasses.replace(
                post, status=PostStatus.PUBLISHED, published_at=now, updated_at=now
            )
            db.save_post(connection, published)
            return published

        return await self._db.run(publish)

    async def list_published(self, request: PageRequest | None = None) -> Page[Post]:
        """One page of published posts, newest first."""
        page_request = request or PageRequest()

        def fetch(connection: sqlite3.Connection) -> Page[Post]:
            total = db.count_published_posts(connection)
            items = db.list_published_posts(
                connection, limit=page_request.per_page, offset=page_request.offset
            )
            return Page(items=tuple(items), total=total, request=page_request)

        return await self._db.run(fetch)
