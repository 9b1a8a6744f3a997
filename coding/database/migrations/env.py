"""Alembic environment: runs on the connection handed over by coding.database.engine.migrate."""

from alembic import context
from sqlmodel import SQLModel

from coding.database import tables  # noqa: F401  (registers the tables on SQLModel.metadata)

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - alembic CLI use
    from coding.database.engine import make_engine

    connection = make_engine(migrate_schema=False).connect()

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
