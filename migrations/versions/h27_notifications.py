"""notifications: reminders and their delivery, and each person's settings

Issue 24 (reminders). `notification`: one thing one person is told about, unique per person by
its event key (so no event notifies twice), with its mail delivery (sent_at, attempts,
last_error, next_attempt_at). `notification_setting`: per person, how each kind is mailed (off,
now, digest) and the mail language. Both go with their person.
Reviewed by hand.

Revision ID: 9d4f6b8c0e32
Revises: 6e4a1c7b2d58
Create Date: 2026-12-03 06:20:00.000000

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "9d4f6b8c0e32"
down_revision: Union[str, Sequence[str], None] = "6e4a1c7b2d58"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery", sa.String(length=10), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["area.id"],
            name=op.f("fk_notification_area_id_area"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_notification_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_notification_user_id_key")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notification_user_id_created_at", ["user_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_notification_pending", ["sent_at", "delivery"], unique=False)
    op.create_table(
        "notification_setting",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("overdue", sa.String(length=10), nullable=False),
        sa.Column("returned", sa.String(length=10), nullable=False),
        sa.Column("approved", sa.String(length=10), nullable=False),
        sa.Column("reply", sa.String(length=10), nullable=False),
        sa.Column("mention", sa.String(length=10), nullable=False),
        sa.Column("workshop", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_notification_setting_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_setting")),
    )


def downgrade() -> None:
    op.drop_table("notification_setting")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_pending")
        batch_op.drop_index("ix_notification_user_id_created_at")
    op.drop_table("notification")
