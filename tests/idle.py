"""Waiting until a workflow waits for someone, for the tests that read what its activities did."""

from typing import Any

from temporalio.client import WorkflowHandle

from tests.support.waiting import eventually


async def wait_for_idle(handle: WorkflowHandle[Any, Any]) -> None:
    """Until the workflow waits for someone: no activity and no workflow task pending."""

    async def idle() -> bool:
        described = (await handle.describe()).raw_description
        return not described.pending_activities and not described.HasField("pending_workflow_task")

    await eventually(idle, timeout=20, why="the workflow never became idle")
