"""analytic memos on units, documents and codes; the key-quote star on a coding

Revision ID: 0007
Revises: 0006 (re-chained as the branches landed: 0004, 0006, then this)
Create Date: 2026-12-01
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"  # chained after 0006 (instruments), which landed on main first
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "memo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("target_kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("coder_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["coder_id"], ["coder.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("memo", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_memo_coder_id"), ["coder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_memo_project_id"), ["project_id"], unique=False)
        batch_op.create_index("ix_memo_target", ["target_kind", "target_id"], unique=False)
    with op.batch_alter_table("coding", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_quote", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("coding", schema=None) as batch_op:
        batch_op.drop_column("key_quote")
    with op.batch_alter_table("memo", schema=None) as batch_op:
        batch_op.drop_index("ix_memo_target")
        batch_op.drop_index(batch_op.f("ix_memo_project_id"))
        batch_op.drop_index(batch_op.f("ix_memo_coder_id"))
    op.drop_table("memo")
