"""Staff access tokens are short-lived (15 minutes) with a refresh path: `POST /v1/auth/refresh`
gives the next one for the refresh token of the sign-in, which is never a bearer token itself
and dies with the user's token version (sign-out, password reset, disabling, new roles). The
pages keep the refresh token in its own HttpOnly cookie and renew the access token unseen; a
form loaded before a renewal still posts (its CSRF token is bound to the refresh token)."""

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest_asyncio

from api.main import build_state, create_app
from api.pages.session import REFRESH_COOKIE, SESSION_COOKIE
from sellerflow.cli.devstack import seed_dev_users
from sellerflow.config import Settings
from sellerflow.db import upgrade_schema
from tests.attacks.conftest import SignInApp
from tests.journey import DEV_PASSWORD, bearer


async def api_sign_in(http: httpx.AsyncClient, username: str = "ops1") -> dict[str, object]:
    answer = await http.post(
        "/v1/auth/token", data={"username": username, "password": DEV_PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_the_access_token_is_short_lived_and_the_refresh_token_gives_the_next(
    sign_in_app: SignInApp,
) -> None:
    http = sign_in_app.http
    tokens = await api_sign_in(http)
    assert tokens["expires_in"] == 15 * 60
    refresh = str(tokens["refresh_token"])
    # A refresh token is no bearer token, and an access token refreshes nothing.
    assert (await http.get("/v1/tasks", headers=bearer(refresh))).status_code == 401
    wrong = await http.post("/v1/auth/refresh", json={"refresh_token": str(tokens["access_token"])})
    assert wrong.status_code == 401, wrong.text
    assert (await http.post("/v1/auth/refresh", json={"refresh_token": "x"})).status_code == 401
    assert (await http.post("/v1/auth/refresh", json={})).status_code == 422

    renewed = await http.post("/v1/auth/refresh", json={"refresh_token": refresh})
    assert renewed.status_code == 200, renewed.text
    access = renewed.json()["access_token"]
    assert (await http.get("/v1/tasks", headers=bearer(access))).status_code == 200

    # Signing out ends the refresh token with the access tokens.
    assert (await http.post("/v1/auth/logout", headers=bearer(access))).status_code == 204
    after = await http.post("/v1/auth/refresh", json={"refresh_token": refresh})
    assert after.status_code == 401, after.text
    assert "revoked" in after.json()["detail"]


@pytest_asyncio.fixture
async def expiring_app(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The API and pages with staff access tokens that expire as soon as they are issued."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'sellerflow.db'}", sellerflow_staff_token_minutes=-1
    )
    upgrade_schema(settings.database_url)
    seed_dev_users(settings)
    app = create_app(settings)
    app.state.sellerflow = state = build_state(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        yield http
    await state.close()


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found[1]


async def test_the_pages_renew_an_expired_access_token_and_forms_still_post(
    expiring_app: httpx.AsyncClient,
) -> None:
    http = expiring_app
    form = {"csrf_token": csrf_of(await http.get("/login")), "username": "ops1"}
    signed_in = await http.post("/login", data={**form, "password": DEV_PASSWORD, "next": ""})
    assert signed_in.status_code == 303, signed_in.text
    assert http.cookies.get(REFRESH_COOKIE)

    inbox = await http.get("/staff")  # the access token expired at once: renewed unseen
    assert inbox.status_code == 200, inbox.text
    assert "ops1" in inbox.text
    written = [c for c in inbox.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)]
    assert len(written) == 1, "the renewed access token is written as the session cookie"
    csrf = csrf_of(inbox)
    again = await http.get("/staff")  # renewed again: the form's CSRF token still holds
    assert csrf_of(again) == csrf

    out = await http.post("/logout", data={"csrf_token": csrf})
    assert out.status_code == 303, out.text
    assert out.headers["location"] == "/login"
    assert not http.cookies.get(REFRESH_COOKIE)
    gone = await http.get("/staff")
    assert gone.status_code == 303
    assert gone.headers["location"].startswith("/login")


async def test_a_stolen_refresh_cookie_dies_with_the_sign_out(
    expiring_app: httpx.AsyncClient,
) -> None:
    http = expiring_app
    form = {"csrf_token": csrf_of(await http.get("/login")), "username": "ops1"}
    await http.post("/login", data={**form, "password": DEV_PASSWORD, "next": ""})
    stolen = http.cookies.get(REFRESH_COOKIE)
    assert stolen
    csrf = csrf_of(await http.get("/staff"))
    assert (await http.post("/logout", data={"csrf_token": csrf})).status_code == 303
    http.cookies.clear()
    http.cookies.set(REFRESH_COOKIE, stolen)
    replayed = await http.get("/staff")
    assert replayed.status_code == 303
    assert replayed.headers["location"].startswith("/login")
