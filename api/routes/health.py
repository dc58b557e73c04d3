"""Liveness, readiness of the backing services, and Prometheus metrics."""

import asyncio
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from api.deps import StateDep

router = APIRouter(tags=["health"])
CHECK_TIMEOUT = 3.0


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={503: {"description": "some backing service is not ready; `checks` says which"}},
)
async def readyz(state: StateDep) -> JSONResponse:
    def database() -> None:
        with state.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    async def temporal() -> None:
        if state.temporal is None:
            raise RuntimeError("not connected")
        await state.temporal.service_client.check_health()

    checks: dict[str, Any] = {}
    for name, check in (
        ("database", run_in_threadpool(database)),
        ("s3", run_in_threadpool(state.store.ping)),
        ("temporal", temporal()),
    ):
        try:
            await asyncio.wait_for(check, CHECK_TIMEOUT)
            checks[name] = "ok"
        except Exception as err:
            checks[name] = f"unavailable: {type(err).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        status_code=200 if ready else 503,
        content={"status": "ready" if ready else "not_ready", "checks": checks},
    )


@router.get("/metrics", response_class=Response)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
