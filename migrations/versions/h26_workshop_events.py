"""workshops: national events across stations, and how a guest attends

Issue 23, part 4. A national workshop (workshop_event) groups one workshop session per area
taking part (workshop_session.event_id, set to NULL when the event is deleted); a guest says on
the join page whether they are in the hall or online (workshop_participant.attends: every guest
already there was in the hall).
Reviewed by hand.

Revision ID: 8c3e5a7b9d21
Revises: ae5a7c9d1f43
Create Date: 2026-12-03 06:20:00.000000

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "8c3e5a7b9d21"
down_revision: Union[str, Sequence[str], None] = "ae5a7c9d1f43"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "workshop_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_workshop_event_created_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"],
            ["user_account.id"],
            name=op.f("fk_workshop_event_closed_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop_event")),
    )
    with op.batch_alter_table("workshop_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_workshop_session_event_id"), ["event_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_workshop_session_event_id_workshop_event"),
            "workshop_event",
            ["event_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("workshop_participant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("attends", sa.String(length=10), nullable=False, server_default="onsite")
        )


def downgrade() -> None:
    with op.batch_alter_table("workshop_participant", schema=None) as batch_op:
        batch_op.drop_column("attends")
    with op.batch_alter_table("workshop_session", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_workshop_session_event_id_workshop_event"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_workshop_session_event_id"))
        batch_op.drop_column("event_id")
    op.drop_table("workshop_event")
