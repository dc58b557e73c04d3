"""An application as `GET /v1/applications/{id}` shows it, in one statement: the most frequent
read of the API.

The application row, its seller's trial and, as JSON arrays in scalar subqueries, its documents,
signatures and decisions come back in one round trip. PostgreSQL aggregates with `json_agg`,
SQLite with `json_group_array`; rows are sorted here, since SQLite keeps no order in aggregates.
"""

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session

from sellerflow.tables import (
    APPLICATION_CHECKS,
    APPLICATIONS,
    DOCUMENTS,
    SELLERS,
    SIGNATURES,
    TASKS,
)
from sellerflow.vocabulary import TaskStatus

DOCUMENT_FIELDS = ("created_at", "kind", "status", "sha256", "error_code", "error_reason")
SIGNATURE_FIELDS = ("signed_at", "kind", "version")
CHECK_FIELDS = ("checked_at", "code", "status", "detail", "source", "evidence")
DECISION_FIELDS = (
    "completed_at",
    "id",
    "kind",
    "decision",
    "completed_by",
    "reason_codes",
    "comment",
)


class json_rows(FunctionElement[Any]):
    """A JSON array holding one JSON array of `columns` per row of the enclosing select."""

    type = sa.JSON()
    inherit_cache = True


@compiles(json_rows, "postgresql")
def _json_rows_postgresql(element: json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"


@compiles(json_rows, "sqlite")
def _json_rows_sqlite(element: json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    # JSON columns are text in SQLite: json() embeds them as values, not as strings.
    columns = ", ".join(
        f"json({compiler.process(c, **kw)})"
        if isinstance(c.type, sa.JSON)
        else compiler.process(c, **kw)
        for c in element.clauses
    )
    return f"json_group_array(json_array({columns}))"


def _rows_of(table: sa.Table, fields: Sequence[str], *where: sa.ColumnElement[bool]) -> Any:
    return sa.select(json_rows(*(table.c[f] for f in fields))).where(*where).scalar_subquery()


def _application_statement() -> sa.Select[Any]:
    """Built once: its SQL is compiled and cached on first use, with the id bound per call."""
    return (
        sa.select(
            APPLICATIONS,
            SELLERS.c.status.label("seller_status"),
            SELLERS.c.trial_ends_at.label("seller_trial_ends_at"),
            _rows_of(
                DOCUMENTS, DOCUMENT_FIELDS, DOCUMENTS.c.application_id == APPLICATIONS.c.id
            ).label("documents"),
            _rows_of(
                SIGNATURES, SIGNATURE_FIELDS, SIGNATURES.c.application_id == APPLICATIONS.c.id
            ).label("signatures"),
            _rows_of(
                TASKS,
                DECISION_FIELDS,
                TASKS.c.application_id == APPLICATIONS.c.id,
                TASKS.c.status == TaskStatus.completed.value,
            ).label("decisions"),
            _rows_of(
                APPLICATION_CHECKS,
                CHECK_FIELDS,
                APPLICATION_CHECKS.c.application_id == APPLICATIONS.c.id,
            ).label("checks"),
        )
        .select_from(APPLICATIONS.outerjoin(SELLERS, SELLERS.c.id == APPLICATIONS.c.seller_id))
        .where(APPLICATIONS.c.id == sa.bindparam("application_id", type_=APPLICATIONS.c.id.type))
    )


APPLICATION = _application_statement()


async def read_application(conn: AsyncConnection, application_id: uuid.UUID) -> sa.Row[Any] | None:
    """The row for `application_view`, None if there is no such application."""
    result = await conn.execute(APPLICATION, {"application_id": application_id})
    row: sa.Row[Any] | None = result.first()
    return row


def application_row(session: Session, application_id: uuid.UUID) -> sa.Row[Any]:
    return session.execute(APPLICATION, {"application_id": application_id}).one()


class _Record:
    """One element of a JSON array from `json_rows`, read by field name."""

    def __init__(self, fields: Sequence[str], values: Sequence[Any]) -> None:
        self.__dict__.update(zip(fields, values, strict=True))


def records(value: Any, fields: Sequence[str]) -> list[Any]:
    """The JSON array's rows, oldest first (by their first field, a timestamp)."""
    rows = json.loads(value) if isinstance(value, str) else value or []
    records = [_Record(fields, [_timestamp(row[0]), *row[1:]]) for row in rows]
    return sorted(records, key=lambda r: getattr(r, fields[0]))


def _timestamp(value: str) -> datetime:
    """An ISO timestamp from either database: PostgreSQL's carry an offset, SQLite's are UTC."""
    parsed = datetime.fromisoformat(value)
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
