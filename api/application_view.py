"""`GET /v1/applications/{id}`'s answer from the row of `sellerflow.queries.applications`."""

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from api.fields import copied
from api.schemas import ApplicationPublic, DecisionPublic
from sellerflow.policy.model import Policy
from sellerflow.policy.requirements import Requirement
from sellerflow.queries.applications import (
    DECISION_FIELDS,
    DOCUMENT_FIELDS,
    SIGNATURE_FIELDS,
    records,
)
from sellerflow.queries.documents import states_of
from sellerflow.queries.requirements import requirements_of
from sellerflow.vocabulary import SellerStatus


def application_view(row: sa.Row[Any], policy: Policy) -> ApplicationPublic:
    """The answer from a row of `application_statement`."""
    trial_ends_at = (
        row.seller_trial_ends_at if row.seller_status == SellerStatus.trial.value else None
    )
    signed = {s.kind: s.version for s in records(row.signatures, SIGNATURE_FIELDS)}
    documents = states_of(records(row.documents, DOCUMENT_FIELDS))
    requirements = requirements_of(policy, row, documents, signed, trial_ends_at)
    return public_view(row, requirements, records(row.decisions, DECISION_FIELDS))


def public_view(
    app: sa.Row[Any], requirements: list[Requirement], decisions: Sequence[Any]
) -> ApplicationPublic:
    """`app` is a row of `APPLICATION`; `decisions` have `DECISION_FIELDS`."""
    return copied(
        ApplicationPublic,
        app,
        id=str(app.id),
        deadline=app.deadline_at,
        seller_id=str(app.seller_id) if app.seller_id else None,
        requirements=requirements,
        decisions=[
            copied(
                DecisionPublic,
                t,
                task_id=str(uuid.UUID(str(t.id))),  # SQLite's JSON carries the bare hex
                decision=t.decision or "",
                actor=t.completed_by,
                decided_at=t.completed_at,
            )
            for t in decisions
        ],
    )
