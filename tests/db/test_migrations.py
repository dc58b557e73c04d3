"""Alembic owns the schema: the migrations reach head, agree with the models, and go back down."""

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import sellerflow.models  # noqa: F401  (registers the tables)
from sellerflow.db import make_engine, upgrade_schema
from tests.support.builders import AS_OF, ORDER_TABLE, SELLER_TABLE, make_seller, order_row


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_snapshot(engine: sa.Engine) -> dict[str, Any]:
    """Tables with their columns and indexes, as the database reports them."""
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        return {
            table: (
                sorted(column["name"] for column in inspector.get_columns(table)),
                sorted(str(index["name"]) for index in inspector.get_indexes(table)),
            )
            for table in inspector.get_table_names()
        }


def model_differences(engine: sa.Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def test_upgrade_schema_brings_an_empty_database_to_head(
    database_url: str, alembic_config: Config
) -> None:
    engine = make_engine(database_url)
    assert schema_snapshot(engine) == {}

    upgrade_schema(database_url)

    head = ScriptDirectory.from_config(alembic_config).get_current_head()
    assert current_revision(engine) == head
    assert set(schema_snapshot(engine)) == {*SQLModel.metadata.tables, "alembic_version"}
    engine.dispose()


def test_upgrade_schema_twice_is_a_no_op(database_url: str) -> None:
    upgrade_schema(database_url)
    engine = make_engine(database_url)
    with engine.begin() as conn:
        seller_id = make_seller(conn)
    revision, snapshot = current_revision(engine), schema_snapshot(engine)

    upgrade_schema(database_url)

    assert current_revision(engine) == revision
    assert schema_snapshot(engine) == snapshot
    with engine.connect() as conn:
        ids = conn.execute(sa.select(SELLER_TABLE.c.id)).scalars().all()
    assert ids == [seller_id]
    engine.dispose()


def test_the_migrations_have_one_head(alembic_config: Config) -> None:
    """Two branches that each added a migration on the same parent leave two heads, and
    `upgrade head` refuses: the later one must name the other as its parent."""
    assert len(ScriptDirectory.from_config(alembic_config).get_heads()) == 1


def test_models_and_migrations_agree(engine: sa.Engine) -> None:
    assert model_differences(engine) == []


def test_downgrade_to_base_and_upgrade_again(engine: sa.Engine, alembic_config: Config) -> None:
    head = current_revision(engine)
    assert head is not None

    command.downgrade(alembic_config, "base")

    assert current_revision(engine) is None
    assert set(schema_snapshot(engine)) <= {"alembic_version"}

    command.upgrade(alembic_config, "head")

    assert current_revision(engine) == head
    assert model_differences(engine) == []


def test_the_rows_of_an_application_and_a_seller_name_rows_that_exist(
    engine: sa.Engine, database_url: str
) -> None:
    """The foreign keys of migration 0005, on both databases; PostgreSQL refuses an orphan."""
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        references = {
            (table, key["constrained_columns"][0], key["referred_table"])
            for table in inspector.get_table_names()
            for key in inspector.get_foreign_keys(table)
        }
    assert references == {
        ("stage_change", "application_id", "application"),
        ("document", "application_id", "application"),
        ("signature", "application_id", "application"),
        ("task", "application_id", "application"),
        ("task", "seller_id", "seller"),
        ("notification", "application_id", "application"),
        ("notification", "seller_id", "seller"),
        ("seller_action", "seller_id", "seller"),
        ("order_event", "seller_id", "seller"),
        ("scorecard", "seller_id", "seller"),
        ("appeal", "seller_id", "seller"),
        ("seller_account", "seller_id", "seller"),
        ("seller_notice", "seller_id", "seller"),
        ("appeal", "notice_id", "seller_notice"),
        ("seller_day", "seller_id", "seller"),
        ("offboarding_request", "seller_id", "seller"),
        ("appeal_evidence", "seller_id", "seller"),
        ("appeal_evidence", "appeal_id", "appeal"),
        ("document_renewal", "seller_id", "seller"),
        ("document_renewal", "document_id", "document"),
        ("policy_simulation", "version", "policy_version"),
        ("policy_simulation", "baseline", "policy_version"),
        ("policy_rollout", "version", "policy_version"),
        ("policy_rollout", "replaces", "policy_version"),
        ("application_check", "application_id", "application"),
        ("sanctions_entry", "load_id", "sanctions_list_load"),
        ("sanctions_alias", "entry_id", "sanctions_entry"),
    }
    if not database_url.startswith("postgresql"):
        return  # SQLite keeps foreign keys in the schema without enforcing them
    orphan = order_row(uuid.uuid4(), AS_OF)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.insert(ORDER_TABLE).values(**orphan))
    with engine.begin() as conn:
        seller_id = make_seller(conn)
        conn.execute(sa.insert(ORDER_TABLE).values(**order_row(seller_id, AS_OF)))
