"""area: the public portal's switch (`public_since`)

Issue 24 part 4. An area's public portal (`/public/areas/{slug}`) is off by default: the column
is NULL for every area already there, and an administrator opens it (the moment it was opened)
or closes it (NULL again) through app/services/public.py, with an audit event.
Reviewed by hand.

Revision ID: ae5a7c9d1f43
Revises: 9d4f6b8c0e32
Create Date: 2026-12-03 06:15:00.000000

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "ae5a7c9d1f43"
down_revision: Union[str, Sequence[str], None] = "9d4f6b8c0e32"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("area", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("area", schema=None) as batch_op:
        batch_op.drop_column("public_since")
