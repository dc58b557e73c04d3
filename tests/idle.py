"""Waiting until a workflow waits for someone, for the tests that read what its activities did."""

import asyncio
from typing import Any

from temporalio.client import WorkflowHandle


async def wait_for_idle(handle: WorkflowHandle[Any, Any]) -> None:
    """Until the workflow waits for someone: no activity and no workflow task pending."""
    for _ in range(200):
        described = (await handle.describe()).raw_description
        if not described.pending_activities and not described.HasField("pending_workflow_task"):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the workflow never became idle")
