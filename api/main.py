"""The FastAPI application: resources built once in `lifespan`, routers, error handling."""

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from prometheus_client import Counter, Histogram
from temporalio.client import Client

from api import errors, pages
from api.deps import AppState
from api.routes import (
    agreements,
    applications,
    auth,
    documents,
    health,
    history,
    ops,
    orders,
    sellers,
    tasks,
)
from sellerflow.config import Settings, get_settings
from sellerflow.db import make_engine
from sellerflow.logs import configure_logging, request_id
from sellerflow.policy.model import load_policy
from sellerflow.storage import ObjectStore
from sellerflow.temporal import connect

log = logging.getLogger("sellerflow.api")

REQUESTS = Counter("sellerflow_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("sellerflow_http_request_seconds", "HTTP request latency", ["method", "route"])
# A caller's request id is kept when it looks like one (no log injection, bounded length).
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def build_state(settings: Settings, temporal: Client | None = None) -> AppState:
    return AppState(
        settings=settings,
        engine=make_engine(settings.database_url),
        store=ObjectStore(settings),
        policy=load_policy(settings.sellerflow_policy),
        temporal=temporal,
    )


def create_app(settings: Settings | None = None, temporal: Client | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging()
        state = build_state(settings, temporal)
        if state.temporal is None:
            try:
                state.temporal = await connect(settings)
            except RuntimeError as err:
                # The API still serves reads from the database; writes that need Temporal
                # answer 503 until it is reachable.
                log.warning("Temporal not reachable at start: %s", err)
        app.state.sellerflow = state
        yield
        state.engine.dispose()

    app = FastAPI(
        title="sellerflow",
        version="1",
        description="Seller onboarding and monitoring for a refurbished-electronics marketplace.",
        lifespan=lifespan,
        # Every route reads the database: while it is unreachable, any of them answers 503.
        responses=errors.errors(503),
    )
    errors.install(app)

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Metrics, a request id (X-Request-ID in and out, on every log record) and a log line."""
        given = request.headers.get("x-request-id", "")
        rid = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        try:
            started = time.perf_counter()
            response = await call_next(request)
            elapsed = time.perf_counter() - started
            route = request.scope.get("route")
            path = getattr(route, "path", "unmatched")
            LATENCY.labels(request.method, path).observe(elapsed)
            REQUESTS.labels(request.method, path, str(response.status_code)).inc()
            response.headers["X-Request-ID"] = rid
            log.info(
                "request",
                extra={
                    "method": request.method,
                    "route": path,
                    "status": response.status_code,
                    "ms": round(elapsed * 1000, 1),
                },
            )
            return response
        finally:
            request_id.reset(token)

    for module in (
        health,
        auth,
        applications,
        documents,
        agreements,
        history,
        tasks,
        sellers,
        orders,
        ops,
    ):
        app.include_router(module.router)
    app.include_router(history.seller_router)
    app.include_router(pages.router)
    return app


app = create_app()
