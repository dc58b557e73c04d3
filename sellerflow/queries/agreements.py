"""Agreements signed by an application, and the versions it must sign."""

import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from sellerflow.tables import SIGNATURES
from sellerflow.templating import current_agreement
from sellerflow.vocabulary import AgreementKind


def signatures_statement(application_id: uuid.UUID) -> sa.Select[Any]:
    return (
        sa.select(SIGNATURES.c.kind, SIGNATURES.c.version)
        .where(SIGNATURES.c.application_id == application_id)
        .order_by(SIGNATURES.c.signed_at)
    )


def signed_versions(conn: sa.Connection | Session, application_id: uuid.UUID) -> dict[str, str]:
    """The newest version signed of each agreement kind."""
    return {row.kind: row.version for row in conn.execute(signatures_statement(application_id))}


def current_versions() -> dict[str, str]:
    return {kind.value: current_agreement(kind.value).version for kind in AgreementKind}
