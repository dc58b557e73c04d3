"""An application's requirements, from its records: the requirement rules
(`sellerflow.policy.requirements`) fed with its documents, signatures and seller's trial."""

import uuid
from datetime import UTC, datetime
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import Session

from sellerflow.db import connection_of
from sellerflow.policy.model import Policy
from sellerflow.policy.requirements import DocumentState, Requirement, requirements
from sellerflow.queries.agreements import current_versions, signed_versions
from sellerflow.queries.documents import DOCUMENTS_OF, states_of
from sellerflow.tables import SELLERS
from sellerflow.vocabulary import SellerCategory, SellerStatus


class _Applicant(Protocol):
    id: uuid.UUID
    seller_category: SellerCategory
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
