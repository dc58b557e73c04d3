"""Policy versions (ops): list, read, propose a draft, approve it (a second person), diff, and
what-ifs of a version over the stored order events."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import MAX_OFFSET, SessionDep, StateDep, TemporalDep, require_role
from api.errors import errors
from api.fields import copied
from api.policy_schemas import (
    FieldChangePublic,
    PolicyCreate,
    PolicyDiffPublic,
    PolicyVersionPublic,
    PolicyVersionSummary,
    RolloutCreate,
    RolloutPublic,
    RunningPublic,
    SimulationCreate,
    SimulationPublic,
    SimulationStarted,
)
from api.schemas import Page
from sellerflow.errors import NotFound
from sellerflow.models import PolicySimulation, PolicyVersion
from sellerflow.principal import Principal
from sellerflow.services import policies, policy_rollouts, policy_simulations
from sellerflow.vocabulary import Role

router = APIRouter(prefix="/v1/policies", tags=["policies"])
simulations_router = APIRouter(prefix="/v1/policy-simulations", tags=["policies"])
OpsDep = Annotated[Principal, require_role(Role.ops)]
VersionPath = Annotated[str, Path(min_length=1, max_length=64)]


def summary(row: PolicyVersion, running: policies.Running) -> PolicyVersionSummary:
    return PolicyVersionSummary(
        version=row.version,
        status=row.status,
        effective_at=row.effective_at,
        proposed_by=row.proposed_by,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        created_at=row.created_at,
        running_workflows=RunningPublic(
            onboarding=running.onboarding, sellers=running.sellers, total=running.total
        ),
    )


def public(session: SessionDep, row: PolicyVersion) -> PolicyVersionPublic:
    running = policies.running_workflows(session).get(row.version, policies.Running())
    return PolicyVersionPublic(**summary(row, running).model_dump(), rules=row.rules)


@router.get("", responses=errors(401, 403, 422))
def list_policies(
    _: OpsDep,
    session: SessionDep,
    state: StateDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page[PolicyVersionSummary]:
    """Every version, newest first, with how many running workflows use it."""
    rows, total = policies.list_versions(session, state.policy, limit=limit, offset=offset)
    running = policies.running_workflows(session)
    data = [summary(row, running.get(row.version, policies.Running())) for row in rows]
    return Page(data=data, count=total, limit=limit, offset=offset)


@router.post("", status_code=201, responses=errors(401, 403, 409, 422))
def propose_policy(
    body: PolicyCreate, ops: OpsDep, session: SessionDep, state: StateDep
) -> PolicyVersionPublic:
    """Store the rules as a draft; 422 names each invalid field by its path."""
    row = policies.propose(session, state.policy, body.rules, ops.subject)
    return public(session, row)


@router.get("/{version}", responses=errors(401, 403, 404, 422))
def get_policy(
    version: VersionPath, _: OpsDep, session: SessionDep, state: StateDep
) -> PolicyVersionPublic:
    return public(session, policies.get_version(session, state.policy, version))


@router.post("/{version}/approve", responses=errors(401, 403, 404, 409, 422))
def approve_policy(
    version: VersionPath, ops: OpsDep, session: SessionDep, state: StateDep
) -> PolicyVersionPublic:
    """The second person's approval: 403 for the draft's own proposer."""
    return public(session, policies.approve(session, state.policy, version, ops.subject))


@router.post("/{version}/rollout", status_code=202, responses=errors(401, 403, 404, 409, 422, 503))
async def roll_out_policy(
    version: VersionPath,
    body: RolloutCreate,
    ops: OpsDep,
    session: SessionDep,
    state: StateDep,
    temporal: TemporalDep,
) -> RolloutPublic:
    """Schedule an approved version for `effective_at` (at least the change notice from now):
    every seller is told what changes for them, and at `effective_at` the evaluation and every
    seller workflow switch to it."""
    rollout = await policy_rollouts.schedule(
        session,
        temporal,
        state.policy,
        version,
        body.effective_at,
        ops.subject,
        state.settings.temporal_task_queue,
    )
    return copied(RolloutPublic, rollout)


@router.get("/{version}/rollout", responses=errors(401, 403, 404, 422))
def get_rollout(
    version: VersionPath, _: OpsDep, session: SessionDep, state: StateDep
) -> RolloutPublic:
    """A rollout's progress: the sellers told, then switched."""
    policies.get_version(session, state.policy, version)
    rollout = policy_rollouts.rollout_of(session, version)
    if rollout is None:
        raise NotFound(f"policy version {version!r} has no rollout")
    return copied(RolloutPublic, rollout)


@router.get("/{version}/diff", responses=errors(401, 403, 404, 422))
def diff_policy(
    version: VersionPath,
    _: OpsDep,
    session: SessionDep,
    state: StateDep,
    against: Annotated[
        str | None, Query(min_length=1, max_length=64, description="default: the active version")
    ] = None,
) -> PolicyDiffPublic:
    """What changes, field by field, from `against` to this version."""
    old = against or policies.active_version(session, state.policy).version
    changes = policies.version_diff(session, state.policy, old, version)
    return PolicyDiffPublic(
        from_version=old,
        to_version=version,
        changes=[FieldChangePublic(**vars(c)) for c in changes],
    )


@router.post("/{version}/simulations", status_code=202, responses=errors(401, 403, 404, 422, 503))
async def simulate_policy(
    version: VersionPath,
    ops: OpsDep,
    session: SessionDep,
    state: StateDep,
    temporal: TemporalDep,
    body: SimulationCreate | None = None,
) -> SimulationStarted:
    """Evaluate the version's rules over the stored order events (at `as_of`, default now) next
    to the active version's; nothing is changed and nobody is signalled."""
    simulation = await policy_simulations.start(
        session,
        temporal,
        state.policy,
        version,
        body.as_of if body else None,
        ops.subject,
        state.settings.temporal_task_queue,
    )
    return SimulationStarted(id=simulation.id, status=simulation.status)


def simulation_public(simulation: PolicySimulation) -> SimulationPublic:
    return SimulationPublic.model_validate(
        {
            **simulation.model_dump(exclude={"result"}),
            **simulation.result,
        }
    )


@simulations_router.get("/{simulation_id}", responses=errors(401, 403, 404, 422))
def get_simulation(simulation_id: uuid.UUID, _: OpsDep, session: SessionDep) -> SimulationPublic:
    """A what-if's progress; once completed, standings before and after and who would change."""
    return simulation_public(policy_simulations.get(session, simulation_id))
