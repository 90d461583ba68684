"""committee

The area's committee (issue 22 part 1): members with agency and role, working groups and their
members, meetings with attendance (the name copied, so it outlives a member), resolutions and
the records they cite. New tables only. Reviewed by hand.

Revision ID: 18a2c0e3b7d4
Revises: c7512086dcd6
Create Date: 2026-12-02 19:43:32.835993

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '18a2c0e3b7d4'
down_revision: Union[str, Sequence[str], None] = 'c7512086dcd6'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('meeting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('agenda', sa.Text(), nullable=False),
    sa.Column('guests', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_meeting_area_id_area'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting'))
    )
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_area_id'), ['area_id'], unique=False)

    op.create_table('committee_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_committee_member_agency_id_agency'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_committee_member_area_id_area'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_committee_member'))
    )
    with op.batch_alter_table('committee_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_committee_member_area_id'), ['area_id'], unique=False)

    op.create_table('resolution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_resolution_meeting_id_meeting'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resolution'))
    )
    with op.batch_alter_table('resolution', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resolution_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('meeting_attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_attendance_meeting_id_meeting'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['committee_member.id'], name=op.f('fk_meeting_attendance_member_id_committee_member'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_attendance'))
    )
    with op.batch_alter_table('meeting_attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_attendance_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_attendance_member_id'), ['member_id'], unique=False)

    op.create_table('resolution_citation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resolution_id', sa.Integer(), nullable=False),
    sa.Column('target_type', sa.String(length=40), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['resolution_id'], ['resolution.id'], name=op.f('fk_resolution_citation_resolution_id_resolution'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resolution_citation')),
    sa.UniqueConstraint('resolution_id', 'target_type', 'target_id', name=op.f('uq_resolution_citation_resolution_id_target_type_target_id'))
    )
    with op.batch_alter_table('resolution_citation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resolution_citation_resolution_id'), ['resolution_id'], unique=False)
        batch_op.create_index('ix_resolution_citation_target', ['target_type', 'target_id'], unique=False)

    op.create_table('working_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('remit', sa.Text(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('others', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_working_group_area_id_area'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lead_id'], ['committee_member.id'], name=op.f('fk_working_group_lead_id_committee_member'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_working_group'))
    )
    with op.batch_alter_table('working_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_working_group_area_id'), ['area_id'], unique=False)

    op.create_table('working_group_member',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['working_group.id'], name=op.f('fk_working_group_member_group_id_working_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['committee_member.id'], name=op.f('fk_working_group_member_member_id_committee_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'member_id', name=op.f('pk_working_group_member'))
    )
    with op.batch_alter_table('working_group_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_working_group_member_member_id'), ['member_id'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('working_group_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_working_group_member_member_id'))

    op.drop_table('working_group_member')
    with op.batch_alter_table('working_group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_working_group_area_id'))

    op.drop_table('working_group')
    with op.batch_alter_table('resolution_citation', schema=None) as batch_op:
        batch_op.drop_index('ix_resolution_citation_target')
        batch_op.drop_index(batch_op.f('ix_resolution_citation_resolution_id'))

    op.drop_table('resolution_citation')
    with op.batch_alter_table('meeting_attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_attendance_member_id'))
        batch_op.drop_index(batch_op.f('ix_meeting_attendance_meeting_id'))

    op.drop_table('meeting_attendance')
    with op.batch_alter_table('resolution', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resolution_meeting_id'))

    op.drop_table('resolution')
    with op.batch_alter_table('committee_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_committee_member_area_id'))

    op.drop_table('committee_member')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_area_id'))

    op.drop_table('meeting')
