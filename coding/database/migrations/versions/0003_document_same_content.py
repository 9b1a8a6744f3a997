"""documents may share their text: drop the unique (project_id, sha256) constraint

Identical short survey answers from different respondents are separate documents. The
import still refuses equal text unless asked (``allow_same_content``); names stay unique.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# SQLite keeps the constraints of 0001 unnamed; this convention names them on reflection
# (uq_document_project_id_name, uq_document_project_id_sha256) so batch mode can drop one.
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}


def _sha256_unique_name() -> str | None:
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints("document"):
        if constraint["column_names"] == ["project_id", "sha256"]:
            return constraint["name"]
    return None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("document", recreate="always", naming_convention=_NAMING) as batch_op:
            batch_op.drop_constraint("uq_document_project_id_sha256", type_="unique")
    else:
        name = _sha256_unique_name()
        if name:
            op.drop_constraint(name, "document", type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("document", naming_convention=_NAMING) as batch_op:
        batch_op.create_unique_constraint("uq_document_project_id_sha256", ["project_id", "sha256"])
