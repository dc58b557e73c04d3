"""What happened to an application or a seller: the workflows' histories and the records'."""

import uuid
from dataclasses import dataclass

from sqlmodel import Session
from temporalio.client import Client, WorkflowHistory

from sellerflow.errors import NotFound
from sellerflow.history import (
    application_workflows,
    fetch_histories,
    inbox_entries,
    merge,
    seller_audit_entries,
)
from sellerflow.models import Application, Seller
from sellerflow.principal import Principal
from sellerflow.services.access import check_may_read
from sellerflow.services.sellers import seller_workflow_id
from sellerflow.timeline import Entry
from sellerflow.workflow_calls import call_workflow


@dataclass(frozen=True)
class Timeline:
    workflow_ids: list[str]
    runs: int
    entries: list[Entry]


async def application_histories(temporal: Client, app: Application) -> list[WorkflowHistory]:
    """The replayable histories of every workflow the application went through."""
    return await call_workflow(fetch_histories(temporal, application_workflows(app)))


async def application_timeline(session: Session, temporal: Client, app: Application) -> Timeline:
    workflow_ids = application_workflows(app)
    histories = await call_workflow(fetch_histories(temporal, workflow_ids))
    entries = merge(histories, inbox_entries(session, app))
    return Timeline(workflow_ids, len(histories), entries)


def seller_of(session: Session, staff: Principal, seller_id: uuid.UUID) -> Seller:
    """The seller whose history the staff member may read: its timeline begins with the
    onboarding of its application, so the same rule as for reading that application holds
    (the lab reads none)."""
    seller = session.get(Seller, seller_id)
    if seller is None:
        raise NotFound("no seller with this id")
    check_may_read(session, staff, seller.application_id)
    return seller


async def seller_timeline(
    session: Session, temporal: Client, seller: Seller, newest_runs: int | None = None
) -> Timeline:
    """Every run of the seller's workflow (across continue-as-new), or its newest
    `newest_runs`, and its audit rows."""
    workflow_id = seller_workflow_id(seller.id)
    histories = await call_workflow(fetch_histories(temporal, [workflow_id], newest_runs))
    entries = merge(histories, seller_audit_entries(session, seller))
    return Timeline([workflow_id], len(histories), entries)
