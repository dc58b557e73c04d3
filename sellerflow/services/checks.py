"""The results of an application's automated checks: written by the verification, one row per
check (its newest result), read by the reviewer's page and `GET /v1/applications/{id}`."""

import uuid
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from sellerflow.models import ApplicationCheck
from sellerflow.policy.checks import CheckOutcome
from sellerflow.tables import APPLICATION_CHECKS
from sellerflow.vocabulary import CheckCode, CheckStatus

# The order the reviewer reads them in: what the applicant gave, then what sources answered.
CHECK_ORDER = {code: index for index, code in enumerate(CheckCode)}


def reading_order(code: str) -> int:
    """A check's place in the reviewer's reading order (`CHECK_ORDER`)."""
    return CHECK_ORDER[CheckCode(code)]


def record_checks(
    conn: sa.Connection,
    application_id: uuid.UUID,
    outcomes: Iterable[CheckOutcome],
    at: datetime,
    retry_at: datetime | None = None,
) -> None:
    """Each outcome as its check's newest result; an `unavailable` one is tried again from
    `retry_at`, and counts its attempts while the source stays silent."""
    for outcome in outcomes:
        values = {
            "status": outcome.status.value,
            "detail": outcome.detail[:2000],
            "source": outcome.source[:200],
            "evidence": outcome.evidence,
            "checked_at": at,
            "next_attempt_at": retry_at if outcome.status == CheckStatus.unavailable else None,
        }
        attempts = APPLICATION_CHECKS.c.attempts + 1
        updated = conn.execute(
            sa.update(APPLICATION_CHECKS)
            .where(
                APPLICATION_CHECKS.c.application_id == application_id,
                APPLICATION_CHECKS.c.code == outcome.code.value,
            )
            .values(
                **values,
                attempts=attempts if outcome.status == CheckStatus.unavailable else 1,
            )
        )
        if updated.rowcount == 0:
            # One workflow per application runs its checks one attempt at a time: no race.
            conn.execute(
                sa.insert(APPLICATION_CHECKS).values(
                    id=uuid.uuid4(),
                    application_id=application_id,
                    code=outcome.code.value,
                    attempts=1,
                    **values,
                )
            )


def checks_of(session: Session, application_id: uuid.UUID) -> list[ApplicationCheck]:
    found = session.exec(
        select(ApplicationCheck).where(col(ApplicationCheck.application_id) == application_id)
    ).all()
    return sorted(found, key=lambda c: reading_order(c.code))
