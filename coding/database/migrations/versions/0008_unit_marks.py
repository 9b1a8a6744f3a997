"""unit marks: a coder read a unit and nothing of a frame applies

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"  # 0003 on the branch; chained after 0007 (memos) once main had 0004-0007
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unit_mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("coder_id", sa.Integer(), nullable=False),
        sa.Column("frame_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["coder_id"], ["coder.id"]),
        sa.ForeignKeyConstraint(["segment_id"], ["segment.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("segment_id", "coder_id", "frame_key"),
    )
    with op.batch_alter_table("unit_mark", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_mark_coder_id"), ["coder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_unit_mark_segment_id"), ["segment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("unit_mark", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_mark_segment_id"))
        batch_op.drop_index(batch_op.f("ix_unit_mark_coder_id"))
    op.drop_table("unit_mark")
