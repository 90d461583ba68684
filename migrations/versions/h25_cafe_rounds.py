"""workshops: World Café tables, timed rounds and seats; a contribution's table and round

Issue 23, part 3. A session's tables (workshop_table: number, question, host), its timed rounds
(workshop_round: minutes, ends_at, ended_at when ended early) and where each guest sits in each
round (workshop_seat). A contribution made during a round carries its table and round (both
nullable: every contribution already there, and those sent between rounds, have none); deleting
a table or round leaves its contributions in the session. The host's summary is a new
contribution kind (`table_summary`), which fits the kind column as it is.
Reviewed by hand.

Revision ID: 7b2d4f6a8c10
Revises: 8c3e5a7b9d21
Create Date: 2026-12-03 06:20:00.000000

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "7b2d4f6a8c10"
down_revision: Union[str, Sequence[str], None] = "8c3e5a7b9d21"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "workshop_table",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("host_name", sa.String(length=60), nullable=False),
        sa.Column("host_participant_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["host_participant_id"],
            ["workshop_participant.id"],
            name=op.f("fk_workshop_table_host_participant_id_workshop_participant"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["workshop_session.id"],
            name=op.f("fk_workshop_table_session_id_workshop_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop_table")),
        sa.UniqueConstraint("session_id", "number", name="uq_workshop_table_session_number"),
    )
    with op.batch_alter_table("workshop_table", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workshop_table_session_id"), ["session_id"], unique=False
        )
    op.create_table(
        "workshop_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["workshop_session.id"],
            name=op.f("fk_workshop_round_session_id_workshop_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop_round")),
        sa.UniqueConstraint("session_id", "number", name="uq_workshop_round_session_number"),
    )
    with op.batch_alter_table("workshop_round", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workshop_round_session_id"), ["session_id"], unique=False
        )
    op.create_table(
        "workshop_seat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("table_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["workshop_participant.id"],
            name=op.f("fk_workshop_seat_participant_id_workshop_participant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["workshop_round.id"],
            name=op.f("fk_workshop_seat_round_id_workshop_round"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["table_id"],
            ["workshop_table.id"],
            name=op.f("fk_workshop_seat_table_id_workshop_table"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop_seat")),
        sa.UniqueConstraint(
            "round_id", "participant_id", name="uq_workshop_seat_round_participant"
        ),
    )
    with op.batch_alter_table("workshop_seat", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workshop_seat_participant_id"), ["participant_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_workshop_seat_table_id"), ["table_id"], unique=False)
    with op.batch_alter_table("workshop_contribution", schema=None) as batch_op:
        batch_op.add_column(sa.Column("table_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("round_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_workshop_contribution_table_id"), ["table_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_workshop_contribution_round_id"), ["round_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_workshop_contribution_table_id_workshop_table"),
            "workshop_table",
            ["table_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_workshop_contribution_round_id_workshop_round"),
            "workshop_round",
            ["round_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("workshop_contribution", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_workshop_contribution_round_id_workshop_round"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_workshop_contribution_table_id_workshop_table"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_workshop_contribution_round_id"))
        batch_op.drop_index(batch_op.f("ix_workshop_contribution_table_id"))
        batch_op.drop_column("round_id")
        batch_op.drop_column("table_id")
    op.drop_table("workshop_seat")
    op.drop_table("workshop_round")
    op.drop_table("workshop_table")
