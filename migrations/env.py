"""Alembic environment: the schema is the SQLModel metadata of sellerflow.models."""

from alembic import context
from sqlmodel import SQLModel

import sellerflow.models  # noqa: F401  (registers the tables)
from sellerflow.config import get_settings
from sellerflow.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
