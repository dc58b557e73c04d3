"""Engine creation and sessions; the same code serves SQLite and PostgreSQL."""

import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import Session, SQLModel, create_engine, select

CONNECT_TIMEOUT_SECONDS = 5
# A failed statement's error (and so its log line) shows the SQL without the values bound to
# it: those are applicants' names, addresses and numbers.
HIDE_PARAMETERS = True


def table_of(model: type[SQLModel]) -> sa.Table:
    """A model's table, for plain Core statements (hot reads, set-based writes)."""
    name = model.__tablename__
    assert isinstance(name, str)
    return SQLModel.metadata.tables[name]


def make_engine(url: str, *, pre_ping: bool = True) -> sa.Engine:
    """`pre_ping`: test each connection as it leaves the pool (a round trip per checkout).
    Activities go without: one that meets a connection the server dropped fails, SQLAlchemy
    replaces the pool's connections, and the retry finds a fresh one."""
    url, connect_args = _driver(url, sqlite_driver="sqlite")
    connect_args |= {"check_same_thread": False} if url.startswith("sqlite") else {}
    engine = create_engine(
        url, pool_pre_ping=pre_ping, connect_args=connect_args, hide_parameters=HIDE_PARAMETERS
    )
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_async_engine(url: str) -> AsyncEngine:
    """The same database for reads served on the event loop (psycopg's or aiosqlite's driver).

    Autocommit: each statement reads committed rows, with no BEGIN and ROLLBACK round trips.
    No ping before each use either: a connection the server dropped fails one read (503), and
    SQLAlchemy then replaces every pooled connection.
    """
    url, connect_args = _driver(url, sqlite_driver="sqlite+aiosqlite")
    engine = create_async_engine(
        url,
        isolation_level="AUTOCOMMIT",
        connect_args=connect_args,
        hide_parameters=HIDE_PARAMETERS,
    )
    if url.startswith("sqlite"):
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _driver(url: str, *, sqlite_driver: str) -> tuple[str, dict[str, Any]]:
    """The URL with its driver named, and the driver's connect arguments."""
    if url.startswith("sqlite"):
        return re.sub(r"^sqlite://", f"{sqlite_driver}://", url), {"timeout": 30}
    if url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        if "connect_timeout=" not in url:
            # An unreachable server fails a connect in seconds, not after the OS's TCP timeout.
            return url, {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    return url, {}


def parse_id(value: str, what: str) -> uuid.UUID:
    """A UUID from a message; ValueError naming `what` (activities fail it without retrying)."""
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError) as err:
        raise ValueError(f"not a {what}: {value!r}") from err


def connection_of(db: Session | sa.Connection) -> sa.Connection:
    """The connection under a session (its transaction), or the connection itself."""
    return db.connection() if isinstance(db, Session) else db


def unreachable_because(err: sa.exc.DBAPIError) -> str:
    """Why the database did not answer, from the first line of the driver's message (refused,
    timed out, locked): never the statement or a row, which the rest may quote."""
    text = str(err.orig) if err.orig is not None else ""
    return text.splitlines()[0][:300] if text else "-"


def count(session: Session, query: sa.Select[Any]) -> int:
    """The one number a `SELECT count(...)` query returns (list totals)."""
    return int(session.execute(query).scalar_one())


M = TypeVar("M", bound=SQLModel)


def page_of(
    session: Session,
    model: type[M],
    conditions: Sequence[sa.ColumnElement[bool]],
    order: Sequence[sa.SQLColumnExpression[Any]],
    *,
    limit: int,
    offset: int,
) -> tuple[list[M], int]:
    """One page of the rows of `model` that meet every condition, in `order` (which should end
    with a unique column, so pages never overlap), and how many meet them."""
    total = count(session, sa.select(sa.func.count()).select_from(model).where(*conditions))
    query = select(model).where(*conditions).order_by(*order).limit(limit).offset(offset)
    return list(session.exec(query).all()), total


_INSERT_ONCE: dict[tuple[str, str, str], sa.Insert] = {}


def insert_once(conn: sa.Connection, table: sa.Table, key: str, values: dict[str, Any]) -> bool:
    """INSERT unless a row with the same unique `key` exists: True when this call inserted it.

    `ON CONFLICT (key) DO NOTHING`: a concurrent insert of the same key waits for the other
    transaction and then inserts nothing, where a check-then-insert would fail on the key.
    """
    dialect = conn.dialect.name
    statement = _INSERT_ONCE.get((table.name, key, dialect))
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        primary = table.primary_key.columns.values()[0]
        statement = insert(table).on_conflict_do_nothing(index_elements=[key]).returning(primary)
        _INSERT_ONCE[(table.name, key, dialect)] = statement
    return conn.execute(statement, values).first() is not None


def insert_all_once(
    conn: sa.Connection, table: sa.Table, key: str, rows: list[dict[str, Any]]
) -> None:
    """`insert_once` of many rows in one statement: those whose `key` is stored are skipped."""
    if not rows:
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(insert(table).on_conflict_do_nothing(index_elements=[key]), rows)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@contextmanager
def session_scope(engine: sa.Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise


def upgrade_schema(url: str) -> None:
    """Bring the database to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    from sellerflow.config import PROJECT_ROOT

    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser escaping
    command.upgrade(cfg, "head")


@contextmanager
def fresh_schema(postgres_url: str, prefix: str) -> Iterator[str]:
    """A new, empty schema in a PostgreSQL database (tests and benchmarks), dropped afterwards;
    yields the URL whose connections use it."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{postgres_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
