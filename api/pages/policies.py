"""Ops pages of policy versions: the versions, one version with its diff against another, its
what-ifs, its approval and its rollout, a new version proposed from one, a what-if started,
and a what-if's result charted."""

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from api.deps import AppState, SessionDep, StateDep, get_temporal
from api.pages.charts import grouped_bar_chart
from api.pages.session import (
    CheckedFormDep,
    OpsPageDep,
    PageRoute,
    PageSession,
    PageSessionDep,
    StaffPageDep,
    readable,
    redirect,
    render,
    text,
)
from api.routes.policies import simulation_public
from sellerflow.errors import DomainError
from sellerflow.services import policies, policy_rollouts, policy_simulations
from sellerflow.vocabulary import Standing

router = APIRouter(prefix="/ops/policies", route_class=PageRoute, include_in_schema=False)
# Changed sellers listed on a what-if's page; the API gives them all (up to its own cap).
LISTED_CHANGES = 500


@router.get("")
def versions_page(
    request: Request, page: PageSessionDep, _: OpsPageDep, session: SessionDep, state: StateDep
) -> Response:
    rows, total = policies.list_versions(session, state.policy, limit=200, offset=0)
    running = policies.running_workflows(session)
    return render(
        request,
        page,
        "ops_policies.html",
        versions=[(row, running.get(row.version, policies.Running())) for row in rows],
        total=total,
    )


@router.get("/simulations/{simulation_id}")
def simulation_page(
    simulation_id: uuid.UUID,
    request: Request,
    page: PageSessionDep,
    _: OpsPageDep,
    session: SessionDep,
) -> Response:
    result = simulation_public(policy_simulations.get(session, simulation_id))
    chart = None
    if result.standings is not None:
        current = result.standings.current.model_dump()
        proposed = result.standings.proposed.model_dump()
        chart = grouped_bar_chart(
            "Sellers per standing, now and under the proposed rules",
            {s.value: {"current": current[s], "proposed": proposed[s]} for s in Standing},
            ["current", "proposed"],
        )
    return render(
        request,
        page,
        "ops_policy_simulation.html",
        simulation=result,
        chart=chart,
        changes=result.changes[:LISTED_CHANGES],
    )


@router.get("/{version}")
def version_page(
    version: str,
    request: Request,
    page: PageSessionDep,
    _: OpsPageDep,
    session: SessionDep,
    state: StateDep,
    against: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    return _version_page(request, page, session, state, version, against)


def _version_page(
    request: Request,
    page: PageSession,
    session: Session,
    state: AppState,
    version: str,
    against: str | None = None,
    *,
    proposal: str | None = None,
    problems: list[str] | None = None,
) -> Response:
    """The version's page; with `proposal` and `problems`, the rules a person proposed from it
    shown again with what is wrong with them (422), so no edit is lost."""
    row = policies.get_version(session, state.policy, version)
    old = against or policies.active_version(session, state.policy).version
    others, _count = policies.list_versions(session, state.policy, limit=200, offset=0)
    return render(
        request,
        page,
        "ops_policy.html",
        422 if problems else 200,
        version=row,
        running=policies.running_workflows(session).get(row.version, policies.Running()),
        against=old,
        others=[other.version for other in others if other.version != row.version],
        changes=policies.version_diff(session, state.policy, old, row.version),
        simulations=policy_simulations.of_version(session, row.version),
        rollout=policy_rollouts.rollout_of(session, row.version),
        proposal=proposal if proposal is not None else _next_draft(row.version, row.rules),
        problems=problems or [],
    )


def _next_draft(version: str, rules: dict[str, Any]) -> str:
    """The rules of a version as the proposal form starts them: the same, under a new name."""
    return json.dumps({**rules, "version": f"{version}-next"}, indent=2)


def _form_time(form: FormData, name: str) -> datetime:
    """A form's `datetime-local` field, which the pages ask for in UTC (ValueError if none)."""
    when = datetime.fromisoformat(text(form, name))
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


@router.post("/{version}/propose")
def propose_version(
    version: str,
    request: Request,
    page: PageSessionDep,
    _: StaffPageDep,
    form: CheckedFormDep,
    ops: OpsPageDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """A draft from the rules edited in the form, as `POST /v1/policies` stores it; what is
    wrong with them is shown beside them."""
    proposal = text(form, "rules")
    try:
        rules = json.loads(proposal)
        if not isinstance(rules, dict):
            raise ValueError("the rules are one JSON object")
        row = policies.propose(session, state.policy, rules, ops.subject)
    except policies.InvalidPolicy as err:
        problems = [f"{field['path']}: {field['msg']}" for field in err.fields]
    except DomainError as err:
        problems = [readable(err)]
    except ValueError as err:
        problems = [f"Not rules in JSON: {err}"]
    else:
        done = f"Draft {row.version} proposed: a second person approves it"
        return redirect(request, page, f"/ops/policies/{row.version}", ok=done)
    return _version_page(
        request, page, session, state, version, proposal=proposal, problems=problems
    )


@router.post("/{version}/simulations")
async def start_what_if(
    version: str,
    request: Request,
    page: PageSessionDep,
    _: StaffPageDep,
    form: CheckedFormDep,
    ops: OpsPageDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """A what-if of this version against the one in force, as of now or the form's date."""
    url = f"/ops/policies/{version}"
    as_of: datetime | None = None
    if text(form, "as_of"):
        try:
            as_of = _form_time(form, "as_of")
        except ValueError:
            return redirect(request, page, url, error="Give the date the what-if looks back to")
    try:
        temporal = await get_temporal(state)
        simulation = await policy_simulations.start(
            session,
            temporal,
            state.policy,
            version,
            as_of,
            ops.subject,
            state.settings.temporal_task_queue,
        )
    except DomainError as err:
        return redirect(request, page, url, error=readable(err))
    return redirect(
        request, page, f"/ops/policies/simulations/{simulation.id}", ok="What-if started"
    )


@router.post("/{version}/approve")
def approve_version(
    version: str,
    request: Request,
    page: PageSessionDep,
    _: StaffPageDep,
    form: CheckedFormDep,
    ops: OpsPageDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """The second person's approval, as the API gives it; back to the version's page."""
    url = f"/ops/policies/{version}"
    try:
        policies.approve(session, state.policy, version, ops.subject)
    except DomainError as err:
        return redirect(request, page, url, error=readable(err))
    return redirect(request, page, url, ok=f"Policy {version} approved")


@router.post("/{version}/rollout")
async def schedule_rollout(
    version: str,
    request: Request,
    page: PageSessionDep,
    _: StaffPageDep,
    form: CheckedFormDep,
    ops: OpsPageDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    """Schedule the rollout for the form's `effective_at` (UTC), as the API does."""
    url = f"/ops/policies/{version}"
    try:
        effective_at = _form_time(form, "effective_at")
    except ValueError:
        return redirect(request, page, url, error="Give the date and time it takes effect")
    try:
        temporal = await get_temporal(state)
        await policy_rollouts.schedule(
            session,
            temporal,
            state.policy,
            version,
            effective_at,
            ops.subject,
            state.settings.temporal_task_queue,
        )
    except DomainError as err:
        return redirect(request, page, url, error=readable(err))
    when = f"{effective_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    done = f"Rollout scheduled: every seller is told; {version} takes effect {when}"
    return redirect(request, page, url, ok=done)
