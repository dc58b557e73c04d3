"""The duplicates check's reads: the applications sharing an identifier with this one, with
their sellers, in one statement; the sellers among them offboarded for fraud in another."""

import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from sellerflow.models import Application
from sellerflow.policy.checks import CheckOutcome
from sellerflow.policy.duplicates import (
    SEPARATORS,
    DuplicateMatch,
    compact,
    duplicates_check,
    mail_domain,
)
from sellerflow.tables import APPLICATIONS, SELLER_ACTIONS, SELLERS
from sellerflow.vocabulary import SellerStatus

# Compared compact (`policy.duplicates.compact`), the e-mail address case-folded.
COMPARED = (
    "vat_number",
    "registration_number",
    "iban",
    "contact_email",
    "phone",
    "company_address",
)


def _compact_sql(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    out = sa.func.lower(column)
    for separator in SEPARATORS:
        out = sa.func.replace(out, separator, "")
    return out


def duplicate_matches(session: Session, app: Application) -> list[DuplicateMatch]:
    """Every other application sharing an identifier, e-mail domain, phone or address."""
    wanted = {name: compact(getattr(app, name)) for name in COMPARED}
    conditions = {
        name: _compact_sql(APPLICATIONS.c[name]) == value for name, value in wanted.items() if value
    }
    domain = mail_domain(app.contact_email)
    if domain:
        conditions["email_domain"] = sa.func.lower(APPLICATIONS.c.contact_email).like(f"%@{domain}")
    if not conditions:
        return []
    labels = [condition.label(name) for name, condition in conditions.items()]
    rows = (
        session.connection()
        .execute(
            sa.select(
                APPLICATIONS.c.id,
                APPLICATIONS.c.legal_name,
                APPLICATIONS.c.stage,
                SELLERS.c.id.label("seller_id"),
                SELLERS.c.status.label("seller_status"),
                *labels,
            )
            .outerjoin(SELLERS, SELLERS.c.id == APPLICATIONS.c.seller_id)
            .where(APPLICATIONS.c.id != app.id, sa.or_(*conditions.values()))
            .order_by(APPLICATIONS.c.created_at)
            .limit(20)
        )
        .all()
    )
    fraud = _offboarded_for_fraud(session, {row.seller_id for row in rows if row.seller_id})
    return [
        DuplicateMatch(
            application_id=str(row.id),
            legal_name=row.legal_name,
            stage=row.stage,
            fields=tuple(name for name in conditions if getattr(row, name)),
            seller_id=str(row.seller_id) if row.seller_id else None,
            seller_status=row.seller_status,
            offboarded_for_fraud=row.seller_id in fraud,
        )
        for row in rows
    ]


def _offboarded_for_fraud(session: Session, seller_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """The sellers whose offboarding's reason record rests on fraud (`ground`)."""
    if not seller_ids:
        return set()
    actions = session.connection().execute(
        sa.select(SELLER_ACTIONS.c.seller_id, SELLER_ACTIONS.c.reason).where(
            SELLER_ACTIONS.c.seller_id.in_(seller_ids),
            SELLER_ACTIONS.c.to_status == SellerStatus.offboarded.value,
        )
    )
    return {
        action.seller_id for action in actions if (action.reason or {}).get("ground") == "fraud"
    }


def duplicates_outcome(session: Session, app: Application) -> CheckOutcome:
    return duplicates_check(duplicate_matches(session, app))
