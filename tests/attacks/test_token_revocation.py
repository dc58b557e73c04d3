"""A staff token stops working when its user signs out, has the password reset, is disabled or
gets other roles: each bumps the user's token version, and a token of an older one is refused,
as a bearer token on the API and as the pages' session cookie. Other users' tokens still work."""

import re

import httpx
import pytest

from api.pages.session import SESSION_COOKIE
from sellerflow.cli import users
from tests.attacks.conftest import SignInApp
from tests.journey import DEV_PASSWORD, bearer, staff_token


async def page_login(http: httpx.AsyncClient, username: str) -> str:
    """The session cookie of a staff login through the page."""
    http.cookies.clear()
    page = await http.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf, page.text
    form = {"csrf_token": csrf[1], "username": username, "password": DEV_PASSWORD, "next": ""}
    response = await http.post("/login", data=form)
    assert response.status_code == 303, response.text
    return response.cookies[SESSION_COOKIE]


async def with_cookie(
    http: httpx.AsyncClient, cookie: str, method: str, path: str, **form: str
) -> httpx.Response:
    http.cookies.clear()
    http.cookies.set(SESSION_COOKIE, cookie)
    try:
        return await http.request(method, path, data=form or None)
    finally:
        http.cookies.clear()


async def opens(http: httpx.AsyncClient, auth: dict[str, str], cookie: str) -> tuple[int, int]:
    """What the token answers as a bearer token (/v1/tasks) and as the session cookie (/staff)."""
    http.cookies.clear()
    api = await http.get("/v1/tasks", headers=auth)
    page = await with_cookie(http, cookie, "GET", "/staff")
    return api.status_code, page.status_code


@pytest.mark.parametrize(
    "change",
    [
        ["reset-password", "ssm1", "--password", "a-new-password"],
        ["disable", "ssm1"],
        ["set-roles", "ssm1", "--role", "lab"],
    ],
    ids=lambda change: change[0],
)
async def test_a_change_to_the_user_revokes_its_tokens(
    sign_in_app: SignInApp, change: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    http = sign_in_app.http
    cookie = await page_login(http, "ssm1")
    auth, other = await staff_token(http, "ssm1"), await staff_token(http, "ssm2")
    assert await opens(http, auth, cookie) == (200, 200)

    monkeypatch.setattr(users, "get_settings", lambda: sign_in_app.settings)
    assert users.main(change) == 0

    api, page = await opens(http, auth, cookie)
    assert api == 401
    assert page == 303  # the cookie is no session: to the login form
    assert (await http.get("/v1/tasks", headers=other)).status_code == 200


async def test_the_same_roles_again_revoke_nothing(
    sign_in_app: SignInApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = await staff_token(sign_in_app.http, "ssm1")
    monkeypatch.setattr(users, "get_settings", lambda: sign_in_app.settings)
    assert users.main(["set-roles", "ssm1", "--role", "ssm"]) == 0
    assert (await sign_in_app.http.get("/v1/tasks", headers=auth)).status_code == 200


async def test_signing_out_revokes_every_token_of_the_user(sign_in_app: SignInApp) -> None:
    http = sign_in_app.http
    cookie = await page_login(http, "ops1")
    copy = bearer(cookie)  # the cookie's token, stolen and used as a bearer token
    api_token = await staff_token(http, "ops1")
    other = await staff_token(http, "ssm1")
    page = await with_cookie(http, cookie, "GET", "/staff")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf, page.text

    out = await with_cookie(http, cookie, "POST", "/logout", csrf_token=csrf[1])
    assert out.status_code == 303

    assert await opens(http, copy, cookie) == (401, 303)
    assert (await http.get("/v1/tasks", headers=api_token)).status_code == 401
    assert (await http.get("/v1/tasks", headers=other)).status_code == 200
    assert (await http.get("/v1/tasks", headers=await staff_token(http, "ops1"))).status_code == 200


async def test_signing_out_on_the_api_revokes_every_token_of_the_user(
    sign_in_app: SignInApp,
) -> None:
    http = sign_in_app.http
    cookie = await page_login(http, "ops1")
    first, second = await staff_token(http, "ops1"), await staff_token(http, "ops1")
    other = await staff_token(http, "ssm1")
    http.cookies.clear()

    out = await http.post("/v1/auth/logout", headers=first)

    assert out.status_code == 204, out.text
    assert await opens(http, second, cookie) == (401, 303)
    assert (await http.post("/v1/auth/logout", headers=first)).status_code == 401
    assert (await http.post("/v1/auth/logout")).status_code == 401
    assert (await http.get("/v1/tasks", headers=other)).status_code == 200
