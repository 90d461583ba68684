"""Reminders and notifications (issue 24): what a person is told about, once, in the app and by
e-mail, and how each person wants to be told."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import created_at_field


class Notification(SQLModel, table=True):
    """One thing one person is told about. `key` names the event (`overdue:<kpi>:<period>`,
    `comment:<id>`, `round:<audit event id>`, `workshop:<session id>`): unique per person, so
    the same event never notifies anyone twice, whatever runs `phonlap remind` at once.

    The text is rendered when read or mailed, in the reader's language, from `kind` and
    `params`. `delivery` is how it is mailed (now, digest, none); `sent_at` stays empty until
    the mail server has accepted it; a failure counts `attempts`, keeps `last_error` and waits
    until `next_attempt_at` (also the lease a sender holds while it sends)."""

    __tablename__ = "notification"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "key"),
        sa.Index("ix_notification_user_id_created_at", "user_id", "created_at"),
        sa.Index("ix_notification_pending", "sent_at", "delivery"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    kind: str = Field(sa_type=sa.String(20))  # notifications.Kind
    key: str = Field(sa_type=sa.String(120))
    area_id: int | None = Field(default=None, foreign_key="area.id", ondelete="CASCADE")
    params: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON())
    link: str = Field(default="", sa_type=sa.String(500))
    created_at: datetime = created_at_field()
    read_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    delivery: str = Field(default="now", sa_type=sa.String(10))  # now, digest, none
    sent_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
    attempts: int = 0
    last_error: str = Field(default="", sa_type=sa.String(500))
    next_attempt_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class NotificationSetting(SQLModel, table=True):
    """How one person wants to hear of each kind (off, now, digest) and in which language
    mails come. No row: the defaults (notifications.DEFAULTS), in Thai."""

    __tablename__ = "notification_setting"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    language: str = Field(default="th", sa_type=sa.String(5))
    overdue: str = Field(default="digest", sa_type=sa.String(10))
    returned: str = Field(default="now", sa_type=sa.String(10))
    approved: str = Field(default="now", sa_type=sa.String(10))
    reply: str = Field(default="now", sa_type=sa.String(10))
    mention: str = Field(default="now", sa_type=sa.String(10))
    workshop: str = Field(default="now", sa_type=sa.String(10))
