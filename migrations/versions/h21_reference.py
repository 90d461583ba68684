"""reference data in the app (issue 22 part 4)

Areas get a programme (existing rows: the education innovation areas) and a pilot-school
count; each change of an area's status is kept with its date and instrument
(area_status_change; `phonlap seed` fills the first entry of each seeded area); DOE items
record who confirmed their wording against the official text and when (existing items are
unconfirmed until an administrator confirms them).
Reviewed by hand.

Revision ID: 4b21e7a9c3d5
Revises: 3a8f61d2c9e4
Create Date: 2026-12-02 19:55:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '4b21e7a9c3d5'
down_revision: Union[str, Sequence[str], None] = '3a8f61d2c9e4'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('area_status_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('changed_on', sa.Date(), nullable=False),
    sa.Column('instrument', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_area_status_change_area_id_area'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_area_status_change'))
    )
    with op.batch_alter_table('area_status_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_area_status_change_area_id'), ['area_id'], unique=False)

    # plain ADD COLUMN: a batch copy of these tables would drop tables others reference
    op.add_column('area', sa.Column('programme', sa.String(length=40), nullable=False, server_default='innovation_area'))
    op.add_column('area', sa.Column('pilot_schools', sa.Integer(), nullable=True))
    if op.get_bind().dialect.name != 'sqlite':
        op.alter_column('area', 'programme', server_default=None)
    op.add_column('doe_item', sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('doe_item', sa.Column('confirmed_by', sa.String(length=300), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column('doe_item', 'confirmed_by')
    op.drop_column('doe_item', 'confirmed_at')
    op.drop_column('area', 'pilot_schools')
    op.drop_column('area', 'programme')
    with op.batch_alter_table('area_status_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_area_status_change_area_id'))
    op.drop_table('area_status_change')
