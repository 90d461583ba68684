"""a contribution's detail: a problem's cause

Issue 23 (every step from a phone): a guest's problem may come with its cause, kept beside the
text in `detail` (empty for every other kind, and for every contribution already there). The new
kinds (doe_statement, vision_phrase, kra_idea) fit the kind column as it is.
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


def downgrade() -> None:
    with op.batch_alter_table("workshop_contribution", schema=None) as batch_op:
        batch_op.drop_column("detail")
