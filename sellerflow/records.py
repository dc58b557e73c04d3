"""Read helpers over the business records, shared by the API and the activities."""

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from sellerflow.models import Application, Document, Seller, Signature
from sellerflow.policy.model import Policy
from sellerflow.policy.requirements import DocumentState, Requirement, requirements
from sellerflow.templating import current_agreement
from sellerflow.vocabulary import AgreementKind, DocumentStatus, SellerCategory, SellerStatus


def latest_documents(session: Session, application_id: uuid.UUID) -> dict[str, Document]:
    """The newest document of each kind that has been uploaded or is awaiting upload.

    A file refused at upload (wrong bytes) never counts: it must not hide an earlier file.
    """
    docs = session.exec(
        select(Document)
        .where(Document.application_id == application_id)
        .order_by(Document.created_at)  # type: ignore[arg-type]
    ).all()
    latest: dict[str, Document] = {}
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


def signed_versions(session: Session, application_id: uuid.UUID) -> dict[str, str]:
    """The newest version signed of each agreement kind."""
    rows = session.exec(
        select(Signature)
        .where(Signature.application_id == application_id)
        .order_by(Signature.signed_at)  # type: ignore[arg-type]
    ).all()
    return {row.kind: row.version for row in rows}


def current_versions() -> dict[str, str]:
    return {kind.value: current_agreement(kind.value).version for kind in AgreementKind}


def requirement_list(
    session: Session, policy: Policy, app: Application, now: datetime | None = None
) -> list[Requirement]:
    docs = latest_documents(session, app.id)
    seller = session.get(Seller, app.seller_id) if app.seller_id else None
    in_trial = seller is not None and seller.status == SellerStatus.trial.value
    return requirements(
        policy,
        category=SellerCategory(app.seller_category),
        country=app.country,
        vat_number=app.vat_number,
        documents={
            kind: DocumentState(
                status=DocumentStatus(doc.status),
                error_code=doc.error_code,
                error_reason=doc.error_reason,
            )
            for kind, doc in docs.items()
        },
        signed_agreements=signed_versions(session, app.id),
        agreement_versions=current_versions(),
        deadline=app.deadline_at,
        now=now or datetime.now(UTC),
        trial_ends_at=seller.trial_ends_at if seller and in_trial else None,
    )


def count(session: Session, query: sa.Select[Any]) -> int:
    return int(session.execute(query).scalar_one())
