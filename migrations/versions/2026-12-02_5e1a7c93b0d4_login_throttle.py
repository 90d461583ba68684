"""login throttle

Sign-in throttling moves from one row per failed sign-in (login_failure, counted after the
password was checked, so parallel guesses were all checked) to one counter row per key
(login_throttle: `account:<email>` or `address:<ip>`, the window's start and its attempts),
counted up atomically before a password is checked. The failures on record are not carried
over: at most one window (15 minutes) of counting is lost when the schema is upgraded.
Downgrade restores an empty login_failure. Reviewed by hand.

Revision ID: 5e1a7c93b0d4
Revises: 147c7003f618
Create Date: 2026-12-02 07:50:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '5e1a7c93b0d4'
down_revision: Union[str, Sequence[str], None] = '147c7003f618'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=320), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttle'))
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failure_email'))
        batch_op.drop_index(batch_op.f('ix_login_failure_address'))

    op.drop_table('login_failure')


def downgrade() -> None:
    """Downgrade schema."""
    op.create_table('login_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure'))
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failure_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_failure_email'), ['email'], unique=False)

    op.drop_table('login_throttle')
