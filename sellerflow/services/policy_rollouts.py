"""Rollouts of approved policy versions: scheduled by ops with the notice the law asks for,
then carried out by `PolicyRolloutWorkflow` (the sellers told, the switch at `effective_at`)."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select
from temporalio.client import Client

from sellerflow.db import table_of
from sellerflow.errors import Conflict, DomainError, InvalidRequest
from sellerflow.models import PolicyRollout, PolicyVersion, utcnow
from sellerflow.policy.model import Policy
from sellerflow.policy.rollout import change_notice, earliest_effective_at
from sellerflow.rollout_payloads import RolloutInput
from sellerflow.services import policies
from sellerflow.vocabulary import PolicyStatus
from sellerflow.workflow_calls import call_workflow
from workflows.rollout import PolicyRolloutWorkflow, workflow_id

VERSIONS = table_of(PolicyVersion)


class NoticeTooShort(InvalidRequest):
    """An `effective_at` earlier than now plus the change notice (P2B art. 3)."""


def check_schedulable(row: PolicyVersion, pending: PolicyRollout | None) -> None:
    """Only an approved draft is rolled out, and one rollout is pending at a time (409)."""
    if row.status != PolicyStatus.draft:
        raise Conflict(
            f"policy version {row.version!r} is {row.status.value}, not an approved draft"
        )
    if row.approved_by is None:
        raise Conflict(f"policy version {row.version!r} is not approved yet")
    if pending is not None:
        raise Conflict(f"the rollout of {pending.version!r} is pending; one rollout at a time")


def pending_rollout(session: Session) -> PolicyRollout | None:
    return session.exec(
        select(PolicyRollout).where(col(PolicyRollout.finished_at).is_(None))
    ).first()


async def schedule(
    session: Session,
    temporal: Client,
    configured: Policy,
    version: str,
    effective_at: datetime,
    requester: str,
    task_queue: str,
) -> PolicyRollout:
    """Schedule the version for `effective_at`: 404 unknown, 409 not an approved draft, 422
    earlier than the longer change notice of the active and the new version."""
    row = policies.get_version(session, configured, version)
    check_schedulable(row, pending_rollout(session))
    if effective_at.tzinfo is None:
        raise InvalidRequest("effective_at needs a time zone offset (RFC 3339)")
    try:
        effective_at = effective_at.astimezone(UTC)
    except OverflowError:
        raise InvalidRequest("effective_at is out of range") from None
    active = policies.active_version(session, configured)
    current = policies.policy_of(session, configured, active.version)
    proposed = policies.policy_of(session, configured, row.version)
    now = utcnow()
    earliest = earliest_effective_at(now, current, proposed)
    if effective_at < earliest:
        raise NoticeTooShort(
            f"effective_at must be at least {change_notice(now, current, proposed)} from now"
            " (not before"
            f" {earliest.isoformat(timespec='seconds')}): sellers are told of a change first"
        )
    # Guarded: of two rollouts asked at once, one wins.
    done = session.connection().execute(
        sa.update(VERSIONS)
        .where(VERSIONS.c.version == version, VERSIONS.c.status == PolicyStatus.draft.value)
        .values(status=PolicyStatus.scheduled.value, effective_at=effective_at)
    )
    if done.rowcount != 1:
        raise Conflict(f"policy version {version!r} was scheduled meanwhile")
    rollout = PolicyRollout(
        version=version,
        replaces=active.version,
        effective_at=effective_at,
        requested_by=requester,
    )
    session.add(rollout)
    session.commit()
    try:
        await call_workflow(
            temporal.start_workflow(
                PolicyRolloutWorkflow.run,
                RolloutInput(version=version, effective_at=rollout.effective_at),
                id=workflow_id(version),
                task_queue=task_queue,
                static_summary=f"Rollout of policy {version}",
            )
        )
    except DomainError:
        # Not started: the version is an approved draft again, to be scheduled once more.
        session.delete(rollout)
        session.connection().execute(
            sa.update(VERSIONS)
            .where(VERSIONS.c.version == version)
            .values(status=PolicyStatus.draft.value, effective_at=None)
        )
        session.commit()
        raise
    session.refresh(rollout)
    return rollout


def rollout_of(session: Session, version: str) -> PolicyRollout | None:
    return session.get(PolicyRollout, version)
