"""pending imports

Workbooks waiting between an import's preview and its confirmation move from files under the
var directory into the database, so that any worker or host can confirm them: one row per area
and workbook (its SHA-256, unique per area, which also serves the lookup), the bytes (BLOB on
SQLite, BYTEA on PostgreSQL, at most 5 MB each) and when it was uploaded (old ones are cleared
after a day). Cascades from the area. A new table only: workbooks waiting in files at the
upgrade are not carried over (their uploader is asked to upload again).
Reviewed by hand.

Revision ID: 1b133847dd1f
Revises: 5e1a7c93b0d4
Create Date: 2026-12-02 07:37:54.827665

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = '1b133847dd1f'
down_revision: Union[str, Sequence[str], None] = '5e1a7c93b0d4'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('pending_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_pending_import_area_id_area'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_import')),
    sa.UniqueConstraint('area_id', 'sha256', name=op.f('uq_pending_import_area_id_sha256'))
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('pending_import')
