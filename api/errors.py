"""One place that turns failures into `{error, detail}` bodies, and OpenAPI descriptions of them."""

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from api.schemas import ErrorBody
from sellerflow.db import unreachable_because
from sellerflow.errors import DomainError, TooManyAttempts
from sellerflow.storage import StoreUnavailable, is_outage

log = logging.getLogger("sellerflow.api")

_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing, invalid or expired token",
    403: "The caller's role does not allow this",
    404: "Not found, or not visible to the caller",
    409: "Conflicts with the current state (task already done or not yours, wrong stage)",
    410: "Gone: a one-time link used, replaced by a newer one, or expired",
    413: "Too large",
    422: "Invalid input or decision",
    429: "Too many attempts; retry after the seconds in the Retry-After header",
    503: "A backing service (Temporal, database, S3) is unavailable; retry",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error codes a route can answer."""
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}


def _body(
    status: int, error: str, detail: Any, headers: dict[str, str] | None = None
) -> JSONResponse:
    content = {"error": error, "detail": detail}
    return JSONResponse(status_code=status, content=content, headers=headers)


def retry_after(exc: DomainError) -> dict[str, str] | None:
    """The Retry-After header of a refusal that says when to retry."""
    if isinstance(exc, TooManyAttempts):
        return {"Retry-After": str(exc.retry_after)}
    return None


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        detail: Any = exc.detail
        codes = getattr(exc, "codes", None)
        if codes is not None:
            detail = {"message": exc.detail, "codes": codes}
        fields = getattr(exc, "fields", None)
        if fields is not None:
            detail = {"message": exc.detail, "fields": fields}
        headers = retry_after(exc)
        return _body(exc.status_code, exc.name, detail, headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [
            {"loc": list(e.get("loc", [])), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return _body(422, "InvalidRequest", detail)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # FastAPI's answer to a body it cannot read (say, not UTF-8): invalid input, said
            # as a validation error is, which every route with a body documents.
            unreadable = {"loc": ["body"], "msg": exc.detail, "type": "body_unreadable"}
            return _body(422, "InvalidRequest", [unreadable])
        name = {404: "NotFound", 405: "MethodNotAllowed", 401: "Unauthorized"}.get(
            exc.status_code, "HTTPError"
        )
        return _body(exc.status_code, name, exc.detail)

    @app.exception_handler(OperationalError)
    async def database_down(_: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", unreachable_because(exc))
        return _body(503, "ServiceUnavailable", "the database is unavailable; retry")

    @app.exception_handler(StoreUnavailable)
    async def store_down(_: Request, exc: StoreUnavailable) -> JSONResponse:
        log.warning("%s", exc)
        return _body(503, "ServiceUnavailable", "the file store is unavailable; retry")

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return _body(500, "InternalError", "unexpected error; it has been logged")

    async def s3_error(request: Request, exc: Exception) -> JSONResponse:
        """S3 reached without the ObjectStore: an outage is a 503 too, anything else a bug."""
        if is_outage(exc):
            return await store_down(request, StoreUnavailable(f"S3 unavailable: {exc}"))
        return await unexpected(request, exc)

    app.add_exception_handler(BotoCoreError, s3_error)
    app.add_exception_handler(ClientError, s3_error)
