"""Ops pages: the stats dashboard with server-drawn charts, an application's history beside its
current state with links to the Temporal UI, and the notification outbox. Read-only."""

import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import col, select

from api.deps import SessionDep, StateDep, application_for, get_temporal
from api.pages.charts import bar_chart, grouped_bar_chart
from api.pages.session import OpsPageDep, PageRoute, PageSessionDep, readable, render
from api.routes.applications import application_public, list_applications
from api.routes.history import application_history
from api.routes.ops import stats
from api.schemas import History
from sellerflow.config import Settings
from sellerflow.errors import DomainError
from sellerflow.models import Notification, Seller
from sellerflow.vocabulary import Role

router = APIRouter(prefix="/ops", route_class=PageRoute, include_in_schema=False)

OUTBOX_SIZE = 50


def temporal_workflow_url(settings: Settings, workflow_id: str) -> str:
    base = settings.temporal_ui_url.rstrip("/")
    namespace = quote(settings.temporal_namespace, safe="")
    return f"{base}/namespaces/{namespace}/workflows/{quote(workflow_id, safe='')}"


@router.get("")
def dashboard(
    request: Request,
    page: PageSessionDep,
    ops: OpsPageDep,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    data = stats(ops, session)
    charts = [
        bar_chart("Applications per stage", data["applications_per_stage"]),
        bar_chart("Funnel", data["funnel"], centered=True),
        bar_chart("Sellers per status", data["sellers_per_status"]),
        grouped_bar_chart(
            "Open and overdue tasks per role",
            {role.value: data["open_tasks_per_role"].get(role.value, {}) for role in Role},
            ["open", "overdue"],
        ),
        bar_chart("Tasks completed per reviewer, last 7 days", data["reviewer_throughput_7d"]),
        bar_chart("Sellers per score band", data["score_distribution"]),
    ]
    recent = list_applications(
        ops, session, stage=None, category=None, country=None, q=q or None, limit=25, offset=0
    )
    return render(
        request,
        page,
        "ops_dashboard.html",
        stats=data,
        charts=charts,
        applications=recent.data,
        total=recent.count,
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
    history, history_error = None, None
    try:
        temporal = await get_temporal(state)
        found = await application_history(app.id, ops, session, temporal, raw=False)
        history = found if isinstance(found, History) else None
    except DomainError as err:
        history_error = readable(err)
    workflow_ids = history.workflows if history else [f"onboarding-{app.id}"]
    return render(
        request,
        page,
        "ops_history.html",
        app=application_public(session, state, app),
        seller=session.get(Seller, app.seller_id) if app.seller_id else None,
        timeline=history.timeline if history else [],
        history_error=history_error,
        workflows=[(w, temporal_workflow_url(state.settings, w)) for w in workflow_ids],
    )


@router.get("/outbox")
def outbox(request: Request, page: PageSessionDep, _: OpsPageDep, session: SessionDep) -> Response:
    messages = session.exec(
        select(Notification).order_by(col(Notification.created_at).desc()).limit(OUTBOX_SIZE)
    ).all()
    return render(request, page, "ops_outbox.html", messages=messages)
