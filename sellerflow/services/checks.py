"""The results of an application's automated checks: written by the verification, one row per
check (its newest result), read by the reviewer's page and `GET /v1/applications/{id}`."""

import uuid
from collections.abc import Collection, Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from sellerflow.models import Application, ApplicationCheck
from sellerflow.policy.checks import (
    CheckOutcome,
    CompanyFacts,
    company_registry_check,
    recheck_at,
    vat_registry_check,
)
from sellerflow.policy.model import CheckRules
from sellerflow.policy.vat import is_valid
from sellerflow.registries import Registers
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


# Checks whose source is a register: asked again while `unavailable`.
REGISTER_CHECKS = (CheckCode.company_registry, CheckCode.vat_registry)


def register_outcomes(
    registers: Registers,
    app: Application,
    rules: CheckRules,
    codes: Collection[CheckCode] = REGISTER_CHECKS,
) -> list[CheckOutcome]:
    """What the registers answer on the application (those of `codes`); the VAT registry only
    for a VAT number whose check digits are right."""
    company = CompanyFacts(app.legal_name, app.company_address)
    outcomes = []
    if CheckCode.company_registry in codes:
        record = registers.companies.lookup(app.country, app.registration_number, app.legal_name)
        outcomes.append(company_registry_check(record, company, rules, registers.companies.source))
    vat, number = registers.vat, app.vat_number
    if CheckCode.vat_registry in codes and vat and number and is_valid(app.country, number):
        outcomes.append(vat_registry_check(vat.check_vat(number), company, rules, vat.source))
    return outcomes


def recheck_unavailable(
    session: Session, registers: Registers, rules: CheckRules, at: datetime, limit: int
) -> tuple[int, int]:
    """Ask the registers again for the checks due (`unavailable`, `next_attempt_at` passed),
    oldest first, at most `limit`; returns (checks asked, still unavailable)."""
    due = session.exec(
        select(ApplicationCheck)
        .where(
            col(ApplicationCheck.status) == CheckStatus.unavailable.value,
            col(ApplicationCheck.next_attempt_at) <= at,
            col(ApplicationCheck.code).in_([c.value for c in REGISTER_CHECKS]),
        )
        .order_by(col(ApplicationCheck.next_attempt_at))
        .limit(limit)
    ).all()
    silent = 0
    for check in due:
        app = session.get(Application, check.application_id)
        if app is None or app.personal_data_erased_at is not None:
            continue
        outcomes = register_outcomes(registers, app, rules, codes={CheckCode(check.code)})
        silent += sum(o.status == CheckStatus.unavailable for o in outcomes)
        retry_at = recheck_at(rules, check.attempts + 1, at)
        record_checks(session.connection(), app.id, outcomes, at, retry_at)
    return len(due), silent
