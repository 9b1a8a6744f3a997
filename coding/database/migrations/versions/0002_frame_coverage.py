"""frame coverage: a coder finished a frame on a document

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "frame_coverage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("coder_id", sa.Integer(), nullable=False),
        sa.Column("frame_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("updated", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["coder_id"], ["coder.id"]),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id", "coder_id", "frame_key"),
    )
    with op.batch_alter_table("frame_coverage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_frame_coverage_coder_id"), ["coder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_frame_coverage_document_id"), ["document_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("frame_coverage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_frame_coverage_document_id"))
        batch_op.drop_index(batch_op.f("ix_frame_coverage_coder_id"))
    op.drop_table("frame_coverage")
