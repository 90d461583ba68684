"""workshops: a contribution's detail (a problem's cause), votes and their ballots

Issue 23. Every step from a phone: a guest's problem may come with its cause, kept beside the
text in `detail` (empty for every other kind, and for every contribution already there); the new
kinds (doe_statement, vision_phrase, kra_idea) fit the kind column as it is. Voting: a vote the
facilitator opens on a column or a group of a session's board (workshop_vote), and each dot a
guest puts on a contribution (workshop_ballot); both go with their session.
Reviewed by hand.

Revision ID: 6e4a1c7b2d58
Revises: 5d2e8f1a9b37
Create Date: 2026-12-03 03:40:00.000000

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "6e4a1c7b2d58"
down_revision: Union[str, Sequence[str], None] = "5d2e8f1a9b37"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("workshop_contribution", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("detail", sa.String(length=500), nullable=False, server_default="")
        )
    op.create_table(
        "workshop_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=True),
        sa.Column("group_label", sa.String(length=60), nullable=True),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("dots", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["workshop_session.id"],
            name=op.f("fk_workshop_vote_session_id_workshop_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop_vote")),
    )
    with op.batch_alter_table("workshop_vote", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workshop_vote_session_id"), ["session_id"], unique=False
        )
    op.create_table(
        "workshop_ballot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("contribution_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["workshop_contribution.id"],
            name=op.f("fk_workshop_ballot_contribution_id_workshop_contribution"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["workshop_participant.id"],
            name=op.f("fk_workshop_ballot_participant_id_workshop_participant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vote_id"],
            ["workshop_vote.id"],
            name=op.f("fk_workshop_ballot_vote_id_workshop_vote"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workshop_ballot")),
    )
    with op.batch_alter_table("workshop_ballot", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workshop_ballot_contribution_id"), ["contribution_id"], unique=False
        )
        batch_op.create_index(
            "ix_workshop_ballot_vote_participant", ["vote_id", "participant_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("workshop_ballot")
    op.drop_table("workshop_vote")
    with op.batch_alter_table("workshop_contribution", schema=None) as batch_op:
        batch_op.drop_column("detail")
