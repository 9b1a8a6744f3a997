"""original spans of imported codings, code colours and codability, sets of codes and documents

* ``selection``: the exact character span each imported coding had in its REFI-QDA file,
  kept beside the segment codings it maps to, so an export writes it back unchanged.
* ``code.color`` and ``code.codable``: REFI-QDA ``color`` and ``isCodable``.
* ``item_set``: REFI-QDA ``<Set>`` (groups of codes and documents).

Existing rows are untouched; old codes become codable with no colour.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("code", schema=None) as batch_op:
        batch_op.add_column(sa.Column("color", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("codable", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_table(
        "selection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("coder_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("memo", sa.Text(), nullable=True),
        sa.Column("created", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["code_id"], ["code.id"]),
        sa.ForeignKeyConstraint(["coder_id"], ["coder.id"]),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("selection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_selection_code_id"), ["code_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_selection_coder_id"), ["coder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_selection_document_id"), ["document_id"], unique=False)
    op.create_table(
        "item_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "name"),
    )
    with op.batch_alter_table("item_set", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_set_project_id"), ["project_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("item_set", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_set_project_id"))
    op.drop_table("item_set")
    with op.batch_alter_table("selection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_selection_document_id"))
        batch_op.drop_index(batch_op.f("ix_selection_coder_id"))
        batch_op.drop_index(batch_op.f("ix_selection_code_id"))
    op.drop_table("selection")
    with op.batch_alter_table("code", schema=None) as batch_op:
        batch_op.drop_column("codable")
        batch_op.drop_column("color")
