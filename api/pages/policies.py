"""Ops pages of policy versions: the versions, one version with its diff against another and
its what-ifs, and a what-if's result charted. Read-only: changes go through the API."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.deps import SessionDep, StateDep
from api.pages.charts import grouped_bar_chart
from api.pages.session import OpsPageDep, PageRoute, PageSessionDep, render
from api.routes.policies import simulation_public
from sellerflow.services import policies, policy_simulations
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
    row = policies.get_version(session, state.policy, version)
    old = against or policies.active_version(session, state.policy).version
    others, _count = policies.list_versions(session, state.policy, limit=200, offset=0)
    return render(
        request,
        page,
        "ops_policy.html",
        version=row,
        running=policies.running_workflows(session).get(row.version, policies.Running()),
        against=old,
        others=[other.version for other in others if other.version != row.version],
        changes=policies.version_diff(session, state.policy, old, row.version),
        simulations=policy_simulations.of_version(session, row.version),
    )
