"""data version

One row holding a number that every committed write to the data moves (app.changes), so that a
page rendered at one number may be served again while the number stands, by any worker or host
(app.page_cache). Starts at 0. A new table only.
Reviewed by hand.

Revision ID: 9c4e1f2a7b3d
Revises: 7c41d2e9a0b5
Create Date: 2026-12-02 11:40:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '9c4e1f2a7b3d'
down_revision: Union[str, Sequence[str], None] = '7c41d2e9a0b5'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    table = op.create_table('data_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_version'))
    )
    op.bulk_insert(table, [{'id': 1, 'n': 0}])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('data_version')
