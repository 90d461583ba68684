"""agency-scoped editor grants

An editor grant may name agencies (of its area, or national ones): the editor then changes
only the KPIs and actions those agencies lead or co-own and the data items they keep. Existing
grants get no rows, so they keep the whole area as before.
Reviewed by hand.

Revision ID: 4f19a2c6d8e1
Revises: 18a2c0e3b7d4
Create Date: 2026-12-02 19:50:00.000000

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "4f19a2c6d8e1"
down_revision: Union[str, Sequence[str], None] = "18a2c0e3b7d4"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "role_grant_agency",
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agency.id"], name=op.f("fk_role_grant_agency_agency_id_agency")
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["role_grant.id"],
            name=op.f("fk_role_grant_agency_grant_id_role_grant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("grant_id", "agency_id", name=op.f("pk_role_grant_agency")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("role_grant_agency")
