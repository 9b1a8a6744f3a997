"""code.expected_share: the codebook's expected base rate of a code (issue 28), optional

Revision ID: 0010_suggest28
Revises: 0010_codebookedit
Create Date: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_suggest28"
down_revision = "0010_codebookedit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("code", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expected_share", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("code", schema=None) as batch_op:
        batch_op.drop_column("expected_share")
