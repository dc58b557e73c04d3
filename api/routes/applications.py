"""Applications: create, read, list, submit, withdraw."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from api.application_view import application_view
from api.deps import (
    MAX_OFFSET,
    PrincipalDep,
    ReadsDep,
    SessionDep,
    StaffDep,
    StateDep,
    TemporalDep,
    client_address,
)
from api.errors import errors
from api.presenters import application_summary
from api.schemas import (
    ApplicationCreate,
    ApplicationCreated,
    ApplicationPublic,
    ApplicationSummary,
    EmailConfirmationBody,
    EmailConfirmed,
    Page,
    StageResult,
    WithdrawBody,
)
from sellerflow.errors import NotFound
from sellerflow.queries.applications import read_application
from sellerflow.queries.requirements import requirement_list
from sellerflow.services import applications, email_confirmation
from sellerflow.services.access import check_may_read_async, owner_application, readable_by
from sellerflow.vocabulary import SellerCategory, Stage

router = APIRouter(prefix="/v1/applications", tags=["applications"])


async def open_application(
    body: ApplicationCreate,
    state: StateDep,
    session: SessionDep,
    temporal: TemporalDep,
    idempotency_key: str | None = None,
    address: str | None = None,
) -> tuple[ApplicationCreated, bool]:
    """The application stored and its workflow started; whether Temporal confirmed the start."""
    opened = await applications.open_application(
        session,
        temporal,
        state.settings,
        state.policy,
        body.record_fields(),
        idempotency_key,
        address,
    )
    app = opened.application
    created = ApplicationCreated(
        id=str(app.id),
        stage=app.stage,
        applicant_token=opened.applicant_token,
        requirements=requirement_list(session, state.policy, app),
    )
    return created, opened.started


@router.post(
    "",
    status_code=201,
    responses={
        **errors(409, 422, 429, 503),
        202: {"description": "stored; its workflow is starting"},
    },
)
async def create_application(
    request: Request,
    body: ApplicationCreate,
    state: StateDep,
    session: SessionDep,
    temporal: TemporalDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> ApplicationCreated:
    """201 once the workflow runs; 202 when Temporal did not confirm the start in time (the
    application is stored and its workflow starts shortly: poll it with the token); 429 beyond
    the applications allowed per client address and per e-mail address."""
    address = client_address(request)
    created, started = await open_application(
        body, state, session, temporal, idempotency_key, address
    )
    if not started:
        response.status_code = 202
    return created


@router.get("/{application_id}", responses=errors(401, 403, 404))
async def get_application(
    application_id: uuid.UUID, principal: PrincipalDep, reads: ReadsDep, state: StateDep
) -> ApplicationPublic:
    """One statement, awaited on the event loop: the most frequent read of the API."""
    await check_may_read_async(reads, principal, application_id)
    row = await read_application(reads, application_id)
    if row is None:
        raise NotFound("no application with this id")
    return application_view(row, state.policy, for_staff=principal.is_staff)


@router.get("", responses=errors(401, 403))
def list_applications(
    staff: StaffDep,
    session: SessionDep,
    stage: Stage | None = None,
    category: SellerCategory | None = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    q: Annotated[str | None, Query(max_length=200, description="text in the legal name")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Page[ApplicationSummary]:
    filters = applications.ApplicationFilters(stage, category, country, q)
    rows, total = applications.list_applications(
        session, filters, limit=limit, offset=offset, readable=readable_by(staff)
    )
    data = [application_summary(a) for a in rows]
    return Page(data=data, count=total, limit=limit, offset=offset)


@router.post("/{application_id}/email-confirmation", responses=errors(401, 404, 422))
def confirm_email(
    application_id: uuid.UUID, body: EmailConfirmationBody, session: SessionDep, state: StateDep
) -> EmailConfirmed:
    """The token of the link in the first mail confirms the contact e-mail address (again: the
    first time is kept); no other token does."""
    confirmed_at = email_confirmation.confirm_email(
        session, state.settings, application_id, body.token
    )
    return EmailConfirmed(id=str(application_id), email_confirmed_at=confirmed_at)


@router.post("/{application_id}/submit", responses=errors(401, 403, 404, 409, 422, 503))
async def submit_application(
    application_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    state: StateDep,
    temporal: TemporalDep,
) -> StageResult:
    app = owner_application(session, principal, application_id)
    stage = await applications.submit(session, temporal, state.policy, app)
    return StageResult(id=str(app.id), stage=stage)


@router.post("/{application_id}/withdraw", responses=errors(401, 403, 404, 409, 503))
async def withdraw_application(
    application_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    temporal: TemporalDep,
    body: WithdrawBody | None = None,
) -> StageResult:
    app = owner_application(session, principal, application_id)
    stage = await applications.withdraw(session, temporal, app, body.reason if body else "")
    return StageResult(id=str(app.id), stage=stage)
