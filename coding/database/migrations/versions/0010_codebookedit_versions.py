"""codebook edits in the app: codebook_version, code.proposed_by, project.codebook_editors

Revision ID: 0010_codebookedit
Revises: 0009
Create Date: 2026-12-07
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010_codebookedit"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "codebook_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("code_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("undoes", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("codebook", sa.JSON(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["coder.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "number"),
    )
    with op.batch_alter_table("codebook_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_codebook_version_project_id"), ["project_id"], unique=False)
    with op.batch_alter_table("code", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proposed_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_code_proposed_by_coder", "coder", ["proposed_by"], ["id"])
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.add_column(sa.Column("codebook_editors", sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default="supervisors"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # a plain column goes in place: rebuilding "project" (batch mode) would drop the table every other
        # table points at, and SQLite refuses that at the commit
        op.execute("ALTER TABLE project DROP COLUMN codebook_editors")
    else:
        op.drop_column("project", "codebook_editors")
    with op.batch_alter_table("code", schema=None) as batch_op:
        batch_op.drop_constraint("fk_code_proposed_by_coder", type_="foreignkey")
        batch_op.drop_column("proposed_by")
    op.drop_table("codebook_version")
