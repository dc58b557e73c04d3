"""Every test in this folder runs twice: on a SQLite file under tmp_path and on PostgreSQL."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from sellerflow.config import PROJECT_ROOT
from sellerflow.db import make_engine


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, or a fresh PostgreSQL schema (`postgres_url`)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'sellerflow.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    # ConfigParser interpolates `%`; the PostgreSQL URL carries `%3D`, so double it.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


@pytest.fixture
def engine(database_url: str, alembic_config: Config) -> Iterator[sa.Engine]:
    """An engine on a database at the head revision.

    Migrates through Alembic directly so the KPI tests do not depend on `upgrade_schema`,
    which test_migrations.py covers on its own.
    """
    command.upgrade(alembic_config, "head")
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
