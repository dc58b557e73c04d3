"""The FastAPI application: resources built once in `lifespan`, routers, error handling."""

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Client

from api import errors, pages
from api.deps import AppState
from api.routes import (
    agreements,
    applications,
    auth,
    documents,
    evidence,
    health,
    history,
    ops,
    orders,
    policies,
    renewals,
    sellers,
    tasks,
)
from sellerflow.config import Settings, get_settings, refuse_default_secrets
from sellerflow.db import make_async_engine, make_engine
from sellerflow.logs import configure_logging, request_id
from sellerflow.policy.model import load_policy
from sellerflow.storage import ObjectStore
from sellerflow.temporal import connect

log = logging.getLogger("sellerflow.api")

REQUESTS = Counter("sellerflow_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("sellerflow_http_request_seconds", "HTTP request latency", ["method", "route"])
# A caller's request id is kept when it looks like one (no log injection, bounded length).
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class Measure:
    """Metrics, a request id (X-Request-ID in and out, on every log record) and a log line.

    Plain ASGI: Starlette's `BaseHTTPMiddleware` would cost each request a task and a stream.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
        text = given.decode("latin-1")
        rid = text if REQUEST_ID.match(text) else uuid.uuid4().hex
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", rid.encode())]
            await send(message)

        token = request_id.set(rid)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            path = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            LATENCY.labels(method, path).observe(elapsed)
            REQUESTS.labels(method, path, str(status)).inc()
            log.info(
                "request",
                extra={
                    "method": method,
                    "route": path,
                    "status": status,
                    "ms": round(elapsed * 1000, 1),
                },
            )
            request_id.reset(token)


def build_state(settings: Settings, temporal: Client | None = None) -> AppState:
    return AppState(
        settings=settings,
        engine=make_engine(settings.database_url),
        reads=make_async_engine(settings.database_url),
        store=ObjectStore(settings),
        policy=load_policy(settings.sellerflow_policy),
        temporal=temporal,
    )


def create_app(settings: Settings | None = None, temporal: Client | None = None) -> FastAPI:
    settings = settings or get_settings()
    refuse_default_secrets(settings)

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
        await state.close()

    app = FastAPI(
        title="sellerflow",
        version="1",
        description="Seller onboarding and monitoring for a refurbished-electronics marketplace.",
        lifespan=lifespan,
        # Every route reads the database: while it is unreachable, any of them answers 503.
        responses=errors.errors(503),
    )
    errors.install(app)

    app.add_middleware(Measure)

    for module in (
        health,
        auth,
        applications,
        documents,
        evidence,
        renewals,
        agreements,
        history,
        tasks,
        sellers,
        orders,
        ops,
        policies,
    ):
        app.include_router(module.router)
    app.include_router(history.seller_router)
    app.include_router(policies.simulations_router)
    app.include_router(pages.router)
    return app


app = create_app()
