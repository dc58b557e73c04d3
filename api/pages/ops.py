"""Ops pages: the stats dashboard with server-drawn charts, an application's history beside its
current state with links to the Temporal UI, and the notification outbox. Read-only."""

import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response

from api.deps import SessionDep, StateDep, get_temporal
from api.pages.charts import bar_chart, grouped_bar_chart
from api.pages.session import OpsPageDep, PageRoute, PageSessionDep, readable, render
from api.presenters import application_public, application_summary
from api.schemas import TimelineEntry
from sellerflow.config import Settings
from sellerflow.errors import DomainError
from sellerflow.models import Seller
from sellerflow.onboarding_start import onboarding_workflow_id
from sellerflow.services import history
from sellerflow.services.access import application_for
from sellerflow.services.applications import ApplicationFilters, list_applications
from sellerflow.services.notifications import recent_messages
from sellerflow.services.stats import OpsStats, stats
from sellerflow.vocabulary import Role

router = APIRouter(prefix="/ops", route_class=PageRoute, include_in_schema=False)

OUTBOX_SIZE = 50


def temporal_workflow_url(settings: Settings, workflow_id: str) -> str:
    base = settings.temporal_ui_url.rstrip("/")
    namespace = quote(settings.temporal_namespace, safe="")
    return f"{base}/namespaces/{namespace}/workflows/{quote(workflow_id, safe='')}"


def _open_tasks(data: OpsStats, role: Role) -> dict[str, int]:
    found = data.open_tasks_per_role.get(role.value)
    return found.model_dump() if found else {}


@router.get("")
def dashboard(
    request: Request,
    page: PageSessionDep,
    ops: OpsPageDep,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    data = stats(session)
    charts = [
        bar_chart("Applications per stage", data.applications_per_stage),
        bar_chart("Funnel", data.funnel.model_dump(), centered=True),
        bar_chart("Sellers per status", data.sellers_per_status),
        grouped_bar_chart(
            "Open and overdue tasks per role",
            {role.value: _open_tasks(data, role) for role in Role},
            ["open", "overdue"],
        ),
        bar_chart("Tasks completed per reviewer, last 7 days", data.reviewer_throughput_7d),
        bar_chart("Sellers per score band", data.score_distribution),
    ]
    recent, total = list_applications(
        session, ApplicationFilters(text=q or None), limit=25, offset=0
    )
    return render(
        request,
        page,
        "ops_dashboard.html",
        stats=data,
        charts=charts,
        applications=[application_summary(a) for a in recent],
        total=total,
        q=q or "",
    )


@router.get("/applications/{application_id}")
async def history_page(
    application_id: uuid.UUID,
    request: Request,
    page: PageSessionDep,
    ops: OpsPageDep,
    session: SessionDep,
    state: StateDep,
) -> Response:
    app = application_for(session, ops, application_id)
    found, history_error = None, None
    try:
        temporal = await get_temporal(state)
        found = await history.application_timeline(session, temporal, app)
    except DomainError as err:
        history_error = readable(err)
    workflow_ids = found.workflow_ids if found else [onboarding_workflow_id(app.id)]
    return render(
        request,
        page,
        "ops_history.html",
        app=application_public(session, state.policy, app, for_staff=True),
        seller=session.get(Seller, app.seller_id) if app.seller_id else None,
        timeline=[TimelineEntry(**vars(e)) for e in found.entries] if found else [],
        history_error=history_error,
        workflows=[(w, temporal_workflow_url(state.settings, w)) for w in workflow_ids],
    )


@router.get("/outbox")
def outbox(request: Request, page: PageSessionDep, _: OpsPageDep, session: SessionDep) -> Response:
    messages = recent_messages(session, OUTBOX_SIZE)
    return render(request, page, "ops_outbox.html", messages=messages)
