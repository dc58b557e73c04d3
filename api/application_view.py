"""`GET /v1/applications/{id}`'s answer from the row of `sellerflow.queries.applications`."""

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from api.fields import copied
from api.schemas import ApplicationPublic, CheckPublic, DecisionPublic
from sellerflow.policy.disclosure import public_comment, public_reason_codes, public_reasons
from sellerflow.policy.model import Policy
from sellerflow.policy.requirements import Requirement
from sellerflow.queries.applications import (
    CHECK_FIELDS,
    DECISION_FIELDS,
    DOCUMENT_FIELDS,
    SIGNATURE_FIELDS,
    records,
)
from sellerflow.queries.documents import states_of
from sellerflow.queries.requirements import requirements_of
from sellerflow.services.checks import reading_order
from sellerflow.vocabulary import REASON_CODES, SellerStatus


def application_view(row: sa.Row[Any], policy: Policy, *, for_staff: bool) -> ApplicationPublic:
    """The answer from a row of `application_statement`; the applicant's (`for_staff` false)
    without who decided, internal reason codes and comments (`policy.disclosure`)."""
    trial_ends_at = (
        row.seller_trial_ends_at if row.seller_status == SellerStatus.trial.value else None
    )
    signed = {s.kind: s.version for s in records(row.signatures, SIGNATURE_FIELDS)}
    documents = states_of(records(row.documents, DOCUMENT_FIELDS))
    requirements = requirements_of(policy, row, documents, signed, trial_ends_at)
    decisions = records(row.decisions, DECISION_FIELDS)
    checks = checks_view(records(row.checks, CHECK_FIELDS)) if for_staff else None
    return public_view(row, requirements, decisions, for_staff=for_staff, checks=checks)


def public_view(
    app: sa.Row[Any],
    requirements: list[Requirement],
    decisions: Sequence[Any],
    *,
    for_staff: bool,
    checks: list[CheckPublic] | None = None,
) -> ApplicationPublic:
    """`app` is a row of `APPLICATION`; `decisions` have `DECISION_FIELDS`."""
    return copied(
        ApplicationPublic,
        app,
        id=str(app.id),
        deadline=app.deadline_at,
        seller_id=str(app.seller_id) if app.seller_id else None,
        requirements=requirements,
        decisions=[decision_view(t, for_staff=for_staff) for t in decisions],
        checks=checks,
    )


def checks_view(checks: Sequence[Any]) -> list[CheckPublic]:
    """`checks` have `CHECK_FIELDS`; in the order the reviewer reads them."""
    found = [copied(CheckPublic, c) for c in checks]
    return sorted(found, key=lambda c: reading_order(c.code))


def decision_view(task: Any, *, for_staff: bool) -> DecisionPublic:
    """`task` has `DECISION_FIELDS`."""
    decision, codes = task.decision or "", list(task.reason_codes or [])
    return DecisionPublic(
        task_id=str(uuid.UUID(str(task.id))),  # SQLite's JSON carries the bare hex
        kind=task.kind,
        decision=decision,
        actor=task.completed_by if for_staff else None,
        reason_codes=codes if for_staff else public_reason_codes(codes),
        reasons=[REASON_CODES.get(c, c) for c in codes] if for_staff else public_reasons(codes),
        comment=task.comment if for_staff else public_comment(decision, task.comment),
        decided_at=task.completed_at,
    )
