"""Seller evaluations on demand: one at a time, followed by id."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session
from temporalio.client import Client, WorkflowExecutionStatus

from sellerflow.errors import Conflict, NotFound
from sellerflow.evaluation_runs import running_evaluation
from sellerflow.models import EvaluationRun
from sellerflow.payloads import EvaluationInput
from sellerflow.policy.model import Policy
from sellerflow.services import policies
from sellerflow.workflow_calls import call_workflow
from workflows.evaluation import SellerEvaluationWorkflow

FINISHED = ("completed", "skipped", "abandoned")


@dataclass(frozen=True)
class Progress:
    run: EvaluationRun | None
    status: str


async def start(session: Session, temporal: Client, policy: Policy, task_queue: str) -> str:
    """Start an evaluation of every seller under the version in force; 409 naming the one
    already running, if any."""
    policy = policies.policy_in_force(session, policy)
    running = running_evaluation(session.connection(), datetime.now(UTC))
    session.rollback()
    if running is not None:
        raise Conflict(
            f"evaluation {running} is running; follow it at /v1/ops/evaluations/{running}"
        )
    evaluation_id = f"evaluation-{uuid.uuid4()}"
    await call_workflow(
        temporal.start_workflow(
            SellerEvaluationWorkflow.run,
            EvaluationInput(policy=policy, evaluation_id=evaluation_id),
            id=evaluation_id,
            task_queue=task_queue,
            static_summary="Seller evaluation started on demand",
        )
    )
    return evaluation_id


async def progress(session: Session, temporal: Client, evaluation_id: str) -> Progress:
    """Its run record and status: the record's once finished, else the workflow's."""
    if not evaluation_id.startswith("evaluation-") or len(evaluation_id) > 100:
        raise NotFound("no evaluation with this id")
    run = session.get(EvaluationRun, evaluation_id)
    if run is not None and run.status in FINISHED:
        return Progress(run, run.status)
    try:
        description = await call_workflow(temporal.get_workflow_handle(evaluation_id).describe())
    except Exception as err:
        if run is None:
            raise NotFound("no evaluation with this id") from err
        description = None
    status = (
        description.status.name.lower()
        if description and description.status
        else (run.status if run else "unknown")
    )
    if description and description.status == WorkflowExecutionStatus.COMPLETED:
        status = "completed"
    return Progress(run, status)
