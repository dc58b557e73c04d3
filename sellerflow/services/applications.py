"""Applications: who may see one, opening it (row and workflow), listing, submit, withdraw."""

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select
from temporalio.client import Client

from sellerflow import audit
from sellerflow.config import Settings
from sellerflow.db import page_of
from sellerflow.errors import (
    Conflict,
    MissingRequirements,
    ServiceUnavailable,
)
from sellerflow.models import Application, Seller
from sellerflow.onboarding_start import onboarding_workflow_id, start_onboarding
from sellerflow.payloads import SubmitInput, WithdrawInput
from sellerflow.policy.model import Policy
from sellerflow.policy.requirements import unmet
from sellerflow.queries.requirements import requirement_list
from sellerflow.security import issue_token
from sellerflow.services import policies
from sellerflow.services.throttle import Counter, Limit, check_not_throttled, count_attempt, counter
from sellerflow.vocabulary import SellerCategory, Stage
from sellerflow.workflow_calls import call_workflow
from workflows.onboarding import OnboardingWorkflow

log = logging.getLogger("sellerflow.applications")

APPLICANT_TOKEN_MINUTES = 60 * 24 * 60
# How long a submit's answer waits for the workflow's write of the stage it led to.
SUBMIT_WRITE_SECONDS = 5.0
# Application ids derived from a client's Idempotency-Key: a retried create is the same one.
_CREATE_KEYS = uuid.UUID("6f1c2a52-3b7e-4d0a-9a41-2f5c8e1d7b90")


@dataclass(frozen=True)
class Opened:
    application: Application
    applicant_token: str
    # Whether Temporal confirmed the workflow's start (else the sweeper starts it).
    started: bool


@dataclass(frozen=True)
class ApplicationFilters:
    stage: Stage | None = None
    category: SellerCategory | None = None
    country: str | None = None
    text: str | None = None


# --- reads -----------------------------------------------------------------------------------


def list_applications(
    session: Session,
    filters: ApplicationFilters,
    *,
    limit: int,
    offset: int,
    readable: sa.ColumnElement[bool] | None = None,
) -> tuple[list[Application], int]:
    """Newest first, and how many match; `readable` is the caller's `access.readable_by`."""
    conditions: list[sa.ColumnElement[bool]] = [] if readable is None else [readable]
    if filters.stage:
        conditions.append(col(Application.stage) == filters.stage.value)
    if filters.category:
        conditions.append(col(Application.seller_category) == filters.category.value)
    if filters.country:
        conditions.append(col(Application.country) == filters.country)
    if filters.text:
        name = sa.func.lower(col(Application.legal_name))
        conditions.append(name.contains(filters.text.lower()))
    order = [col(Application.created_at).desc()]
    return page_of(session, Application, conditions, order, limit=limit, offset=offset)


def legal_names(
    session: Session, ids: list[uuid.UUID], of: type[Application] | type[Seller] = Application
) -> dict[str, str]:
    """The legal name of each application (or seller), by id as text."""
    if not ids:
        return {}
    rows = session.exec(select(of.id, of.legal_name).where(col(of.id).in_(ids))).all()
    return {str(app_id): name for app_id, name in rows}


# --- writes ----------------------------------------------------------------------------------


def creation_counters(settings: Settings, email: str, address: str | None) -> list[Counter]:
    """The limits a new application counts against: its contact e-mail address (case-folded)
    and the client address it comes from (settings `applications_per_*`)."""
    secret = settings.sellerflow_secret_key
    per_email = Limit(
        "application",
        settings.applications_per_email_per_day,
        timedelta(days=1),
        "too many applications for this e-mail address today; try again later",
    )
    counters = [counter(secret, per_email, "email", email.casefold())]
    if address:
        per_address = Limit(
            "application",
            settings.applications_per_address_per_hour,
            timedelta(hours=1),
            "too many applications from this address; try again later",
        )
        counters.append(counter(secret, per_address, "address", address))
    return counters


async def open_application(
    session: Session,
    temporal: Client,
    settings: Settings,
    policy: Policy,
    fields: dict[str, Any],
    idempotency_key: str | None = None,
    address: str | None = None,
) -> Opened:
    """Store the application and start its workflow.

    The row is committed before the start, so the workflow's first activity finds it, and it is
    never deleted afterwards: a start that timed out may have happened. An unconfirmed start is
    made again by the outbox sweeper (and by a retry with the same Idempotency-Key), each start
    finding the running workflow rather than starting a second one.

    A new application counts against its e-mail address's and its client `address`'s limits
    (TooManyAttempts beyond them); a retry of one already stored does not."""
    app_id = uuid.uuid5(_CREATE_KEYS, idempotency_key) if idempotency_key else uuid.uuid4()
    app = session.get(Application, app_id)
    # A new application takes the version in force; a retry keeps the one it was created under.
    version = app.policy_version if app is not None else None
    policy = (
        policies.policy_of(session, policy, version)
        if version
        else (policies.policy_in_force(session, policy))
    )
    if app is None:
        now = datetime.now(UTC)
        counters = creation_counters(settings, str(fields["contact_email"]), address)
        check_not_throttled(session.connection(), counters, now)
        count_attempt(session.connection(), counters, now)
        app = Application(id=app_id, **fields, policy_version=policy.version)
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
                policy=policy,
                task_queue=settings.temporal_task_queue,
            )
        )
        started = True
    except ServiceUnavailable as err:
        log.warning("application %s: start not confirmed (%s); the sweeper retries", app.id, err)
        started = False
    token = issue_token(
        settings.sellerflow_secret_key,
        str(app.id),
        kind="applicant",
        minutes=APPLICANT_TOKEN_MINUTES,
    )
    return Opened(app, token, started)


async def submit(session: Session, temporal: Client, policy: Policy, app: Application) -> str:
    missing = unmet(requirement_list(session, policy, app))
    if missing:
        raise MissingRequirements(missing)
    entered = _stage_entered(session, app.id)
    handle = temporal.get_workflow_handle(onboarding_workflow_id(app.id))
    stage = await call_workflow(handle.execute_update(OnboardingWorkflow.submit, SubmitInput()))
    await _next_stage_written(session, app.id, entered)
    return stage


def _stage_entered(session: Session, application_id: uuid.UUID) -> datetime:
    session.rollback()  # a fresh snapshot: SQLite keeps a read transaction's view
    query = select(Application.stage_entered_at).where(Application.id == application_id)
    return session.exec(query).one()


async def _next_stage_written(
    session: Session, application_id: uuid.UUID, entered: datetime
) -> None:
    """Until the database holds a stage entered after `entered` (or `SUBMIT_WRITE_SECONDS`).

    The workflow answers the submit as it enters the stage, a moment before its activity has
    written it; the document routes refuse a late file by the stage they read in the database,
    so the answer waits for that write: a file completed after the answer meets the new stage.
    """
    deadline = time.monotonic() + SUBMIT_WRITE_SECONDS
    while _stage_entered(session, application_id) == entered:
        if time.monotonic() > deadline:
            log.warning("application %s: submitted, its stage not written yet", application_id)
            return
        await asyncio.sleep(0.02)


async def withdraw(session: Session, temporal: Client, app: Application, reason: str) -> str:
    handle = temporal.get_workflow_handle(onboarding_workflow_id(app.id))
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
    return stage
