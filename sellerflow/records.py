"""Read helpers over the business records, shared by the API and the activities."""

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, select

from sellerflow.db import connection_of, table_of
from sellerflow.models import Application, Document, Seller, Signature, Task
from sellerflow.policy.model import Policy
from sellerflow.policy.requirements import DocumentState, Requirement, requirements
from sellerflow.templating import current_agreement
from sellerflow.vocabulary import AgreementKind, DocumentStatus, SellerCategory, SellerStatus


class _Upload(Protocol):
    kind: str
    status: str
    sha256: str | None


U = TypeVar("U", bound=_Upload)


def newest_of_each_kind(docs: Iterable[U]) -> dict[str, U]:
    """The newest document of each kind that has been uploaded or is awaiting upload.

    `docs` come oldest first. A file refused at upload (wrong bytes) never counts: it must not
    hide an earlier file.
    """
    latest: dict[str, U] = {}
    for doc in docs:
        if doc.status == DocumentStatus.refused.value and doc.sha256 is None:
            continue  # refused at upload and deleted: as if never declared
        current = latest.get(doc.kind)
        # A declared-but-never-uploaded newer file does not hide an uploaded older one.
        if (
            current is None
            or doc.status != DocumentStatus.awaiting_upload.value
            or current.status == DocumentStatus.awaiting_upload.value
        ):
            latest[doc.kind] = doc
    return latest


def latest_documents(session: Session, application_id: uuid.UUID) -> dict[str, Document]:
    """The newest document of each kind (see `newest_of_each_kind`), as rows to work on."""
    docs = session.exec(
        select(Document)
        .where(Document.application_id == application_id)
        .order_by(Document.created_at)  # type: ignore[arg-type]
    ).all()
    return newest_of_each_kind(docs)


# The tables, for plain statements that skip the ORM's rows (hot reads).
APPLICATIONS: sa.Table = table_of(Application)
DOCUMENTS: sa.Table = table_of(Document)
SELLERS: sa.Table = table_of(Seller)
SIGNATURES: sa.Table = table_of(Signature)
TASKS: sa.Table = table_of(Task)


# What the requirement rules (and the reviewer's verdicts) need of an application's documents,
# oldest first; bound with `app_id`.
DOCUMENTS_OF = (
    sa.select(
        DOCUMENTS.c.id,
        DOCUMENTS.c.kind,
        DOCUMENTS.c.status,
        DOCUMENTS.c.sha256,
        DOCUMENTS.c.error_code,
        DOCUMENTS.c.error_reason,
    )
    .where(DOCUMENTS.c.application_id == sa.bindparam("app_id"))
    .order_by(DOCUMENTS.c.created_at)
)


def states_of(rows: Iterable[Any]) -> dict[str, DocumentState]:
    """The rows of `DOCUMENTS_OF` as the requirement rules take them."""
    return {
        kind: DocumentState(
            status=DocumentStatus(doc.status),
            error_code=doc.error_code,
            error_reason=doc.error_reason,
        )
        for kind, doc in newest_of_each_kind(rows).items()
    }


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


class _Applicant(Protocol):
    id: uuid.UUID
    seller_category: str
    country: str
    vat_number: str | None
    deadline_at: datetime | None


def trial_end(conn: sa.Connection, seller_id: uuid.UUID | None) -> datetime | None:
    """When the seller's trial ends, while it is in trial."""
    if seller_id is None:
        return None
    end: datetime | None = conn.execute(
        sa.select(SELLERS.c.trial_ends_at).where(
            SELLERS.c.id == seller_id, SELLERS.c.status == SellerStatus.trial.value
        )
    ).scalar_one_or_none()
    return end


class _Requirer(_Applicant, Protocol):
    seller_id: uuid.UUID | None


def requirement_list(
    db: Session | sa.Connection, policy: Policy, app: _Requirer, now: datetime | None = None
) -> list[Requirement]:
    conn = connection_of(db)
    return requirements_of(
        policy,
        app,
        states_of(conn.execute(DOCUMENTS_OF, {"app_id": app.id})),
        signed_versions(conn, app.id),
        trial_end(conn, app.seller_id),
        now,
    )


def requirements_of(
    policy: Policy,
    app: _Applicant,
    documents: dict[str, DocumentState],
    signed: dict[str, str],
    trial_ends_at: datetime | None,
    now: datetime | None = None,
) -> list[Requirement]:
    """The requirements of `app`, a row or a model; `trial_ends_at` while its seller is in trial."""
    return requirements(
        policy,
        category=SellerCategory(app.seller_category),
        country=app.country,
        vat_number=app.vat_number,
        documents=documents,
        signed_agreements=signed,
        agreement_versions=current_versions(),
        deadline=app.deadline_at,
        now=now or datetime.now(UTC),
        trial_ends_at=trial_ends_at,
    )


def count(session: Session, query: sa.Select[Any]) -> int:
    return int(session.execute(query).scalar_one())
