"""Blog posts."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class PostStatus(str, enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"


@dataclass(frozen=True, slots=True)
class Post:
    id: int
    author_id: int
    title: str
    slug: str
    body: str
    status: PostStatus
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = None

    @property
    def is_published(self) -> bool:
        return self.status is PostStatus.PUBLISHED
