"""Cookie sessions for the pages: the API's own signed token in an HttpOnly cookie (for staff a
short-lived access token, renewed from a refresh token in a second cookie), a CSRF token derived
from the session, one-shot flash messages, HTML rendering and HTML error pages."""

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, unquote

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.datastructures import FormData

from api.deps import SessionDep, StateDep, principal_from_token
from api.errors import retry_after
from sellerflow.config import Settings
from sellerflow.errors import DomainError, Forbidden, NotFound, Unauthorized
from sellerflow.principal import Principal
from sellerflow.security import issue_token, read_token
from sellerflow.services import auth
from sellerflow.services.auth import StaffTokens
from sellerflow.templating import environment
from sellerflow.vocabulary import Role

log = logging.getLogger("sellerflow.pages")

SESSION_COOKIE = "sellerflow_session"
REFRESH_COOKIE = "sellerflow_refresh"
FLASH_COOKIE = "sellerflow_flash"
VISITOR_MINUTES = 60 * 12


class LoginRequired(Exception):
    """The page needs a staff session; the visitor is sent to the login form."""


def csrf_for(secret: str, token: str) -> str:
    """Bound to the session token: a new session (login, new application) means a new token."""
    return hmac.new(secret.encode(), b"csrf:" + token.encode(), hashlib.sha256).hexdigest()


@dataclass
class PageSession:
    token: str
    csrf: str
    principal: Principal | None
    max_age: int
    is_new: bool = False
    # A staff member's refresh token (its own cookie): the session's identity, to which the
    # CSRF token is bound, while the access token in SESSION_COOKIE is renewed every few minutes.
    refresh: str | None = None
    refresh_max_age: int = 0

    @property
    def staff(self) -> Principal:
        if self.principal is None or not self.principal.is_staff:
            raise LoginRequired
        return self.principal


def _session_from(
    secret: str, token: str, principal: Principal | None, minutes: int
) -> PageSession:
    return PageSession(token, csrf_for(secret, token), principal, minutes * 60, is_new=True)


def new_visitor(settings: Settings) -> PageSession:
    secret = settings.sellerflow_secret_key
    # A random id, or every visitor of the same second would share one token, and its CSRF token.
    token = issue_token(
        secret, "visitor", kind="visitor", minutes=VISITOR_MINUTES, jti=secrets.token_hex(16)
    )
    return _session_from(secret, token, None, VISITOR_MINUTES)


def signed_in(settings: Settings, token: str, principal: Principal, minutes: int) -> PageSession:
    """The session after login or after starting an application: written as a new cookie."""
    return _session_from(settings.sellerflow_secret_key, token, principal, minutes)


def staff_signed_in(settings: Settings, tokens: StaffTokens) -> PageSession:
    """A staff member's session after login: the access token and the refresh token, each in
    its cookie; the CSRF token is bound to the refresh token, so a form outlives a renewal."""
    secret = settings.sellerflow_secret_key
    return PageSession(
        tokens.access_token,
        csrf_for(secret, tokens.refresh_token),
        tokens.principal,
        tokens.expires_in,
        is_new=True,
        refresh=tokens.refresh_token,
        refresh_max_age=settings.sellerflow_token_minutes * 60,
    )


def page_session(request: Request, state: StateDep, session: SessionDep) -> PageSession:
    """The visitor's session from the cookie; a staff member's access token renewed with the
    refresh cookie when it expired; a fresh anonymous one when both are absent or stale."""
    token = request.cookies.get(SESSION_COOKIE)
    refresh = request.cookies.get(REFRESH_COOKIE)
    secret = state.settings.sellerflow_secret_key
    if token:
        try:
            claims = read_token(secret, token)
            principal = None
            if claims.get("kind") in ("staff", "applicant", "seller"):
                principal = principal_from_token(state, session, token)
            kept = refresh if claims.get("kind") == "staff" else None
            csrf = csrf_for(secret, kept or token)
            return PageSession(token, csrf, principal, max_age=0, refresh=kept)
        except Unauthorized:
            pass
    if refresh:
        try:
            tokens = auth.refresh(session, state.settings, refresh)
        except Unauthorized:
            pass
        else:
            renewed = staff_signed_in(state.settings, tokens)
            renewed.refresh_max_age = 0  # the refresh cookie keeps its own end
            return renewed
    return new_visitor(state.settings)


PageSessionDep = Annotated[PageSession, Depends(page_session)]


def staff_page(page: PageSessionDep) -> Principal:
    return page.staff


def ops_page(page: PageSessionDep) -> Principal:
    if not page.staff.has(Role.ops):
        raise Forbidden("this page is for the ops role")
    return page.staff


StaffPageDep = Annotated[Principal, Depends(staff_page)]
OpsPageDep = Annotated[Principal, Depends(ops_page)]


async def checked_form(request: Request, page: PageSessionDep) -> FormData:
    """The posted form, once its csrf_token matches the session's."""
    form = await request.form()
    sent = form.get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, page.csrf):
        raise Forbidden("the form has expired or did not come from this site; reload the page")
    return form


CheckedFormDep = Annotated[FormData, Depends(checked_form)]


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _write_session(response: Response, page: PageSession, secure: bool) -> None:
    if not page.is_new:
        return
    response.set_cookie(
        SESSION_COOKIE,
        page.token,
        max_age=page.max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    if page.refresh is None:
        # Signed out, or another sign-in in this browser: no staff session goes on.
        response.delete_cookie(REFRESH_COOKIE)
    elif page.refresh_max_age:
        response.set_cookie(
            REFRESH_COOKIE,
            page.refresh,
            max_age=page.refresh_max_age,
            httponly=True,
            samesite="lax",
            secure=secure,
        )


def _secure(request: Request) -> bool:
    settings: Settings = request.app.state.sellerflow.settings
    return settings.sellerflow_public_url.startswith("https://")


def _security_headers(request: Request, response: Response) -> None:
    settings: Settings = request.app.state.sellerflow.settings
    s3 = settings.s3_public_endpoint_url or settings.s3_endpoint_url or "https:"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        f"form-action 'self' {s3}; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"


def render(
    request: Request, page: PageSession, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    flash = request.cookies.get(FLASH_COOKIE)
    kind, _, message = unquote(flash or "").partition(":")
    html = (
        environment()
        .get_template(f"pages/{template}")
        .render(
            csrf=page.csrf,
            who=page.principal,
            flash={"kind": kind, "text": message} if message else None,
            **context,
        )
    )
    response = HTMLResponse(html, status_code)
    if flash:
        response.delete_cookie(FLASH_COOKIE)
    _write_session(response, page, _secure(request))
    _security_headers(request, response)
    return response


def refused_form(
    request: Request, page: PageSession, template: str, err: DomainError, **context: Any
) -> HTMLResponse:
    """The form again with the refusal as its message, the refusal's status, and Retry-After
    when it says when to try again."""
    response = render(request, page, template, err.status_code, message=readable(err), **context)
    response.headers.update(retry_after(err) or {})
    return response


def is_local_path(target: str) -> bool:
    """A path on this site, the only kind of `next` a page follows.

    Browsers read `\\` as `/` and drop tabs and newlines from a URL, so `/\\evil.com` and
    `/<tab>/evil.com` lead to another host although they start with one slash.
    """
    return (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and target.isprintable()
    )


def redirect(
    request: Request, page: PageSession, url: str, *, ok: str = "", error: str = ""
) -> RedirectResponse:
    """Post/redirect/get, with a message shown once on the next page."""
    response = RedirectResponse(url, status_code=303)
    if ok or error:
        flash = f"ok:{ok}" if ok else f"error:{error}"
        response.set_cookie(FLASH_COOKIE, quote(flash), max_age=60, httponly=True, samesite="lax")
    _write_session(response, page, _secure(request))
    return response


def readable(err: DomainError) -> str:
    return err.detail[0].upper() + err.detail[1:] if err.detail else err.name


def _error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    nobody = PageSession(token="", csrf="", principal=None, max_age=0)
    return render(request, nobody, "error.html", status, title=title, message=message)


def _invalid_address(err: RequestValidationError) -> str:
    """Which part of the address is wrong (a filter's value, a malformed id), and why."""
    parts = [f"{e['loc'][-1]}: {e['msg']}" for e in err.errors() if e.get("loc")]
    return "Check the link and retry" + (" (" + "; ".join(parts) + ")." if parts else ".")


class PageRoute(APIRoute):
    """Routes that answer HTML: failures become a readable page or a redirect to the login."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                target = quote(request.url.path, safe="/")
                return RedirectResponse(f"/login?next={target}", status_code=303)
            except NotFound as err:
                return _error_page(request, 404, "Not found", readable(err))
            except DomainError as err:
                return _error_page(request, err.status_code, err.name, readable(err))
            except RequestValidationError as err:
                return _error_page(request, 422, "Invalid address", _invalid_address(err))
            except Exception:
                log.exception("page failed: %s", request.url.path)
                message = "Something went wrong on our side; it has been logged. Please retry."
                return _error_page(request, 500, "Unexpected error", message)

        return handle
