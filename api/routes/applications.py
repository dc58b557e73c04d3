"""Applications: create, read, list, submit, withdraw."""

import logging
import uuid
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Header, Query, Response
from sqlmodel import col, select

from api.application_view import application_row, application_view, read_application
from api.deps import (
    MAX_OFFSET,
    PrincipalDep,
    ReadsDep,
    SessionDep,
    StaffDep,
    StateDep,
    TemporalDep,
    owner_application,
)
from api.errors import errors
from api.schemas import (
    ApplicationCreate,
    ApplicationCreated,
    ApplicationPublic,
    ApplicationSummary,
    Page,
    StageResult,
    WithdrawBody,
)
from api.workflow_calls import call_workflow
from sellerflow import audit
from sellerflow.application_requirements import requirement_list
from sellerflow.db import count
from sellerflow.errors import Conflict, MissingRequirements, NotFound, ServiceUnavailable
from sellerflow.models import Application
from sellerflow.onboarding_start import onboarding_workflow_id, start_onboarding
from sellerflow.payloads import SubmitInput, WithdrawInput
from sellerflow.policy.requirements import unmet
from sellerflow.security import issue_token
from sellerflow.vocabulary import SellerCategory, Stage
from workflows.onboarding import OnboardingWorkflow

log = logging.getLogger("sellerflow.api")
router = APIRouter(prefix="/v1/applications", tags=["applications"])

APPLICANT_TOKEN_MINUTES = 60 * 24 * 60


def workflow_id(application_id: uuid.UUID) -> str:
    return onboarding_workflow_id(application_id)


# Application ids derived from a client's Idempotency-Key: a retried create is the same one.
_CREATE_KEYS = uuid.UUID("6f1c2a52-3b7e-4d0a-9a41-2f5c8e1d7b90")


async def open_application(
    body: ApplicationCreate,
    state: StateDep,
    session: SessionDep,
    temporal: TemporalDep,
    idempotency_key: str | None = None,
) -> tuple[ApplicationCreated, bool]:
    """Store the application and start its workflow; (created, whether the start was confirmed).

    The row is committed before the start, so the workflow's first activity finds it, and it is
    never deleted afterwards: a start that timed out may have happened. An unconfirmed start is
    made again by the outbox sweeper (and by a retry with the same Idempotency-Key), each start
    finding the running workflow rather than starting a second one."""
    app_id = uuid.uuid5(_CREATE_KEYS, idempotency_key) if idempotency_key else uuid.uuid4()
    fields = {
        **body.model_dump(exclude={"product_categories"}),
        "product_categories": [c.value for c in body.product_categories],
    }
    app = session.get(Application, app_id)
    if app is None:
        app = Application(id=app_id, **fields, policy_version=state.policy.version)
        session.add(app)
        session.commit()
    elif any(getattr(app, name) != value for name, value in fields.items()):
        raise Conflict("this Idempotency-Key was used for another application")
    try:
        await call_workflow(
            start_onboarding(
                temporal,
                application_id=app.id,
                seller_category=app.seller_category,
                country=app.country,
                policy=state.policy,
                task_queue=state.settings.temporal_task_queue,
            )
        )
        started = True
    except ServiceUnavailable as err:
        log.warning("application %s: start not confirmed (%s); the sweeper retries", app.id, err)
        started = False
    token = issue_token(
        state.settings.sellerflow_secret_key,
        str(app.id),
        kind="applicant",
        minutes=APPLICANT_TOKEN_MINUTES,
    )
    created = ApplicationCreated(
        id=str(app.id),
        stage=app.stage,
        applicant_token=token,
        requirements=requirement_list(session, state.policy, app),
    )
    return created, started


@router.post(
    "",
    status_code=201,
    response_model=ApplicationCreated,
    responses={**errors(409, 422, 503), 202: {"description": "stored; its workflow is starting"}},
)
async def create_application(
    body: ApplicationCreate,
    state: StateDep,
    session: SessionDep,
    temporal: TemporalDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> ApplicationCreated:
    """201 once the workflow runs; 202 when Temporal did not confirm the start in time (the
    application is stored and its workflow starts shortly: poll it with the token)."""
    created, started = await open_application(body, state, session, temporal, idempotency_key)
    if not started:
        response.status_code = 202
    return created


@router.get("/{application_id}", response_model=ApplicationPublic, responses=errors(401, 404))
async def get_application(
    application_id: uuid.UUID, principal: PrincipalDep, reads: ReadsDep, state: StateDep
) -> ApplicationPublic:
    """One statement, awaited on the event loop: the most frequent read of the API."""
    if not principal.is_staff and principal.application_id != application_id:
        raise NotFound("no application with this id")
    row = await read_application(reads, application_id)
    if row is None:
        raise NotFound("no application with this id")
    return application_view(row, state.policy)


def application_public(session: SessionDep, state: StateDep, app: Application) -> ApplicationPublic:
    return application_view(application_row(session, app.id), state.policy)


@router.get("", response_model=Page[ApplicationSummary], responses=errors(401, 403))
def list_applications(
    _: StaffDep,
    session: SessionDep,
    stage: Stage | None = None,
    category: SellerCategory | None = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    q: Annotated[str | None, Query(max_length=200, description="text in the legal name")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page[ApplicationSummary]:
    conditions: list[sa.ColumnElement[bool]] = []
    if stage:
        conditions.append(col(Application.stage) == stage.value)
    if category:
        conditions.append(col(Application.seller_category) == category.value)
    if country:
        conditions.append(col(Application.country) == country)
    if q:
        conditions.append(sa.func.lower(col(Application.legal_name)).contains(q.lower()))
    total = count(session, sa.select(sa.func.count()).select_from(Application).where(*conditions))
    rows = session.exec(
        select(Application)
        .where(*conditions)
        .order_by(Application.created_at.desc())  # type: ignore[attr-defined]
        .limit(limit)
        .offset(offset)
    ).all()
    return Page(
        data=[
            ApplicationSummary(
                id=str(a.id),
                legal_name=a.legal_name,
                seller_category=a.seller_category,
                country=a.country,
                stage=a.stage,
                created_at=a.created_at,
                seller_id=str(a.seller_id) if a.seller_id else None,
            )
            for a in rows
        ],
        count=total,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/{application_id}/submit",
    response_model=StageResult,
    responses=errors(401, 403, 404, 409, 422, 503),
)
async def submit_application(
    application_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    state: StateDep,
    temporal: TemporalDep,
) -> StageResult:
    app = owner_application(session, principal, application_id)
    missing = unmet(requirement_list(session, state.policy, app))
    if missing:
        raise MissingRequirements(missing)
    handle = temporal.get_workflow_handle(workflow_id(app.id))
    stage = await call_workflow(handle.execute_update(OnboardingWorkflow.submit, SubmitInput()))
    return StageResult(id=str(app.id), stage=stage)


@router.post(
    "/{application_id}/withdraw",
    response_model=StageResult,
    responses=errors(401, 403, 404, 409, 503),
)
async def withdraw_application(
    application_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
    body: WithdrawBody | None = None,
) -> StageResult:
    app = owner_application(session, principal, application_id)
    handle = temporal.get_workflow_handle(workflow_id(app.id))
    reason = body.reason if body else ""
    stage = await call_workflow(
        handle.execute_update(OnboardingWorkflow.withdraw, WithdrawInput(reason=reason))
    )
    audit.record(
        session,
        key=f"withdraw:{app.id}",
        actor="applicant",
        action="application.withdraw",
        subject_type="application",
        subject_id=str(app.id),
        reason=reason,
    )
    session.commit()
    return StageResult(id=str(app.id), stage=stage)
