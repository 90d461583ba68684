"""shared data

The province's shared database (issue 21): category sets and options (breakdowns), the
breakdowns a data item is given by, data values per period × unit × category options, a KPI's
computation from data items (method and scale on the KPI, its terms in kpi_compute_term) and
the computed cells. Units get an official code (unique in the area) and a parent; data items a
measure, a period type, who reports them and when values are due; measurements their source.
New columns on existing rows take the defaults the models give: existing data items are yearly
fiscal-year items reported for the whole area, due 90 days after the period; existing
measurements were entered.
Reviewed by hand.

Revision ID: c7512086dcd6
Revises: 9c4e1f2a7b3d
Create Date: 2026-12-02 14:53:33.409631

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'c7512086dcd6'
down_revision: Union[str, Sequence[str], None] = '9c4e1f2a7b3d'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('category_set',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_th', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_category_set_area_id_area'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_category_set')),
    sa.UniqueConstraint('area_id', 'code', name=op.f('uq_category_set_area_id_code'))
    )
    op.create_table('category_option',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('set_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_th', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['set_id'], ['category_set.id'], name=op.f('fk_category_option_set_id_category_set'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_category_option')),
    sa.UniqueConstraint('set_id', 'code', name=op.f('uq_category_option_set_id_code'))
    )
    with op.batch_alter_table('category_option', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_category_option_set_id'), ['set_id'], unique=False)

    op.create_table('data_item_category_set',
    sa.Column('data_item_id', sa.Integer(), nullable=False),
    sa.Column('set_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['data_item_id'], ['data_item.id'], name=op.f('fk_data_item_category_set_data_item_id_data_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_id'], ['category_set.id'], name=op.f('fk_data_item_category_set_set_id_category_set'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('data_item_id', 'set_id', name=op.f('pk_data_item_category_set'))
    )
    op.create_table('data_value',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('data_item_id', sa.Integer(), nullable=False),
    sa.Column('cell', sa.String(length=400), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('categories', sa.String(length=300), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('entered_by', sa.Integer(), nullable=True),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['data_item_id'], ['data_item.id'], name=op.f('fk_data_value_data_item_id_data_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entered_by'], ['user_account.id'], name=op.f('fk_data_value_entered_by_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_data_value_unit_id_org_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_value')),
    sa.UniqueConstraint('data_item_id', 'cell', name=op.f('uq_data_value_data_item_id_cell'))
    )
    with op.batch_alter_table('data_value', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_value_data_item_id'), ['data_item_id'], unique=False)

    op.create_table('computed_value',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kpi_id', sa.Integer(), nullable=False),
    sa.Column('cell', sa.String(length=400), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('categories', sa.String(length=300), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['kpi_id'], ['kpi.id'], name=op.f('fk_computed_value_kpi_id_kpi'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_computed_value_unit_id_org_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_computed_value')),
    sa.UniqueConstraint('kpi_id', 'cell', name=op.f('uq_computed_value_kpi_id_cell'))
    )
    with op.batch_alter_table('computed_value', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_computed_value_kpi_id'), ['kpi_id'], unique=False)

    op.create_table('kpi_compute_term',
    sa.Column('kpi_id', sa.Integer(), nullable=False),
    sa.Column('data_item_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['data_item_id'], ['data_item.id'], name=op.f('fk_kpi_compute_term_data_item_id_data_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['kpi_id'], ['kpi.id'], name=op.f('fk_kpi_compute_term_kpi_id_kpi'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('kpi_id', 'data_item_id', 'role', name=op.f('pk_kpi_compute_term'))
    )
    op.add_column('data_item', sa.Column('measure', sa.String(length=60), nullable=False, server_default=sa.text("''")))
    op.add_column('data_item', sa.Column('period_type', sa.String(length=20), nullable=False, server_default=sa.text("'fiscal_year'")))
    op.add_column('data_item', sa.Column('reported_by', sa.String(length=20), nullable=False, server_default=sa.text("''")))
    op.add_column('data_item', sa.Column('due_days', sa.Integer(), nullable=False, server_default=sa.text("'90'")))

    op.add_column('kpi', sa.Column('compute_method', sa.String(length=10), nullable=True))
    op.add_column('kpi', sa.Column('compute_scale', sa.Float(), nullable=True))

    op.add_column('measurement', sa.Column('source', sa.String(length=10), nullable=False, server_default=sa.text("'entered'")))

    # org_unit changes in place: rebuilding it on SQLite (batch mode) would cascade-delete its
    # children (unit_measurement) with foreign keys on. SQLite then adds the column with its
    # REFERENCES clause, as kpi.indicator_id was (migrations/env.py, UNNAMED_ON_SQLITE).
    op.add_column('org_unit', sa.Column('code', sa.String(length=40), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            'ALTER TABLE org_unit ADD COLUMN parent_id INTEGER '
            'CONSTRAINT fk_org_unit_parent_id_org_unit '
            'REFERENCES org_unit (id) ON DELETE SET NULL'
        )
    else:
        op.add_column('org_unit', sa.Column('parent_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_org_unit_parent_id_org_unit'), 'org_unit', 'org_unit', ['parent_id'], ['id'], ondelete='SET NULL')
    op.create_index('ix_org_unit_area_id_code', 'org_unit', ['area_id', 'code'], unique=True)



def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_org_unit_area_id_code', table_name='org_unit')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE org_unit DROP COLUMN parent_id')  # SQLite 3.35+, in place
    else:
        op.drop_constraint(op.f('fk_org_unit_parent_id_org_unit'), 'org_unit', type_='foreignkey')
        op.drop_column('org_unit', 'parent_id')
    _drop_column('org_unit', 'code')

    _drop_column('measurement', 'source')

    _drop_column('kpi', 'compute_scale')
    _drop_column('kpi', 'compute_method')

    _drop_column('data_item', 'due_days')
    _drop_column('data_item', 'reported_by')
    _drop_column('data_item', 'period_type')
    _drop_column('data_item', 'measure')

    op.drop_table('kpi_compute_term')
    with op.batch_alter_table('computed_value', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_computed_value_kpi_id'))

    op.drop_table('computed_value')
    with op.batch_alter_table('data_value', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_value_data_item_id'))

    op.drop_table('data_value')
    op.drop_table('data_item_category_set')
    with op.batch_alter_table('category_option', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_category_option_set_id'))

    op.drop_table('category_option')
    op.drop_table('category_set')


def _drop_column(table: str, column: str) -> None:
    """In place: rebuilding a parent table on SQLite would cascade-delete its children."""
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')  # SQLite 3.35+
    else:
        op.drop_column(table, column)
