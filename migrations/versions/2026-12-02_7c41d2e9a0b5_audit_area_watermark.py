"""audit event index by area, then id

The cross-area review keeps each area's row until the area changes, and asks on every request
for each area's newest audit event (`max(id) WHERE area_id = ?`, once per area). An index on
(area_id, id) answers that with one look-up per area on both databases; the index on area_id
alone made PostgreSQL read all of an area's events. The new index also serves every query the
old one did (area_id is its first column), so the old one goes.
Reviewed by hand.

Revision ID: 7c41d2e9a0b5
Revises: 1b133847dd1f
Create Date: 2026-12-02 11:35:00

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '7c41d2e9a0b5'
down_revision: Union[str, Sequence[str], None] = '1b133847dd1f'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_area_id_id'), ['area_id', 'id'], unique=False)
        batch_op.drop_index(batch_op.f('ix_audit_event_area_id'))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_area_id'), ['area_id'], unique=False)
        batch_op.drop_index(batch_op.f('ix_audit_event_area_id_id'))
