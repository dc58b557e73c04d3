"""What-ifs of policy versions: asked for by ops, run by PolicySimulationWorkflow, read here."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select
from temporalio.client import Client

from sellerflow.errors import DomainError, InvalidRequest, NotFound
from sellerflow.models import PolicySimulation, utcnow
from sellerflow.policy.model import Policy
from sellerflow.services import policies
from sellerflow.simulation_payloads import SimulatePolicyInput
from sellerflow.vocabulary import SimulationStatus
from sellerflow.workflow_calls import call_workflow
from workflows.simulation import PolicySimulationWorkflow

# The order events kept reach back a few years at most; an `as_of` before them says nothing.
OLDEST_AS_OF = timedelta(days=3 * 366)
# A clock a little ahead of the server's is not a date in the future.
CLOCK_SKEW = timedelta(minutes=5)


def workflow_id(simulation_id: uuid.UUID) -> str:
    return f"policy-simulation-{simulation_id}"


def check_as_of(as_of: datetime | None, now: datetime) -> datetime:
    """Now when not given; 422 for a date in the future or older than the events kept."""
    if as_of is None:
        return now
    if as_of.tzinfo is None:
        raise InvalidRequest("as_of needs a time zone offset (RFC 3339)")
    if as_of > now + CLOCK_SKEW:
        raise InvalidRequest("as_of is in the future: a what-if evaluates stored order events")
    if as_of < now - OLDEST_AS_OF:
        raise InvalidRequest("as_of is older than the order events kept (3 years)")
    return min(as_of.astimezone(UTC), now)


async def start(
    session: Session,
    temporal: Client,
    configured: Policy,
    version: str,
    as_of: datetime | None,
    requester: str,
    task_queue: str,
) -> PolicySimulation:
    """Record the what-if of `version` against the active version, and start it."""
    row = policies.get_version(session, configured, version)
    baseline = policies.active_version(session, configured)
    simulation = PolicySimulation(
        version=row.version,
        baseline=baseline.version,
        as_of=check_as_of(as_of, utcnow()),
        requested_by=requester,
    )
    session.add(simulation)
    session.commit()
    try:
        await call_workflow(
            temporal.start_workflow(
                PolicySimulationWorkflow.run,
                SimulatePolicyInput(simulation_id=str(simulation.id)),
                id=workflow_id(simulation.id),
                task_queue=task_queue,
                static_summary=f"What-if of policy {row.version}",
            )
        )
    except DomainError:
        simulation.status, simulation.error = SimulationStatus.failed, "could not be started"
        session.add(simulation)
        session.commit()
        raise
    return simulation


def get(session: Session, simulation_id: uuid.UUID) -> PolicySimulation:
    simulation = session.get(PolicySimulation, simulation_id)
    if simulation is None:
        raise NotFound("no policy simulation with this id")
    return simulation


def of_version(session: Session, version: str, limit: int = 20) -> list[PolicySimulation]:
    """The latest what-ifs of a version, newest first."""
    query = (
        select(PolicySimulation)
        .where(PolicySimulation.version == version)
        .order_by(col(PolicySimulation.created_at).desc())
        .limit(limit)
    )
    return list(session.exec(query).all())
