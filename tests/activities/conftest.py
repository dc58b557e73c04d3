"""A migrated SQLite database per test, for activity tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from sellerflow.db import make_engine, upgrade_schema


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    url = f"sqlite:///{tmp_path / 'sellerflow.db'}"
    upgrade_schema(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()
