"""An application's documents as they count: the newest of each kind, and their states for the
requirement rules. Shared by the API and the activities."""

import uuid
from collections.abc import Iterable
from typing import Protocol, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col, select

from sellerflow.models import Document
from sellerflow.policy.requirements import DocumentState
from sellerflow.tables import DOCUMENTS
from sellerflow.vocabulary import DocumentStatus


class _Upload(Protocol):
    kind: str
    status: DocumentStatus
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
        .order_by(col(Document.created_at))
    ).all()
    return newest_of_each_kind(docs)


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


class _Checked(_Upload, Protocol):
    error_code: str | None
    error_reason: str | None


def states_of(rows: Iterable[_Checked]) -> dict[str, DocumentState]:
    """The rows of `DOCUMENTS_OF` as the requirement rules take them."""
    return {
        kind: DocumentState(
            status=DocumentStatus(doc.status),
            error_code=doc.error_code,
            error_reason=doc.error_reason,
        )
        for kind, doc in newest_of_each_kind(rows).items()
    }
