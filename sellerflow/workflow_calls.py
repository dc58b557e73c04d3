"""Calls into workflows with a bounded wait, and the mapping of their refusals to HTTP errors."""

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from sellerflow.errors import Conflict, DomainError, InvalidRequest, NotFound, ServiceUnavailable

T = TypeVar("T")

# How long a request waits for a workflow before answering 503; tests may lower it.
UPDATE_TIMEOUT_SECONDS = 5.0

_REFUSALS: dict[str, type[DomainError]] = {
    "InvalidDecision": InvalidRequest,
    "TaskNotOpen": Conflict,
    "StageConflict": Conflict,
    "StatusConflict": Conflict,
    "FourEyes": Conflict,
}


async def call_workflow(call: Awaitable[T], timeout: float | None = None) -> T:
    """Await an update/start/query; refusals become 409/422, an unreachable worker 503."""
    try:
        return await asyncio.wait_for(call, timeout or UPDATE_TIMEOUT_SECONDS)
    except TimeoutError as err:
        raise ServiceUnavailable(
            "the workflow did not answer in time (no worker running?); retry later"
        ) from err
    except WorkflowUpdateRPCTimeoutOrCancelledError as err:
        raise ServiceUnavailable("the workflow did not answer in time; retry later") from err
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError):
            error = _REFUSALS.get(cause.type or "", Conflict)
            raise error(cause.message) from err
        raise Conflict(str(cause or err)) from err
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise Conflict("the workflow has already finished") from err
        if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            raise ServiceUnavailable("Temporal is unavailable; retry later") from err
        if err.status == RPCStatusCode.ALREADY_EXISTS:
            raise Conflict(err.message) from err
        raise
    except LookupError as err:
        raise NotFound(str(err)) from err
