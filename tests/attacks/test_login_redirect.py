"""After the staff login the browser follows `next` only to a path of this site: never to
another host, whichever way a browser would read it (`//host`, `/\\host`, a scheme, a control
character that browsers strip)."""

import re

import httpx
import pytest

from tests.attacks.conftest import SignInApp
from tests.journey import DEV_PASSWORD

ELSEWHERE = [
    "//evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "/\\/evil.com",
    "https://evil.com",
    "http:evil.com",
    "javascript:alert(1)",
    "evil.com",
    "/ops\\..\\..\\evil.com",
    "/\t/evil.com",
    "/\n/evil.com",
    "/%0a/x\r\nSet-Cookie: a=b",
    "/\x00/evil.com",
]
LOCAL = ["/ops/outbox", "/staff?page=2", "/staff/tasks/1#decide"]


async def login(http: httpx.AsyncClient, next_path: str) -> httpx.Response:
    http.cookies.clear()
    page = await http.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf, page.text
    form = {"csrf_token": csrf[1], "username": "ops1", "password": DEV_PASSWORD, "next": next_path}
    return await http.post("/login", data=form)


@pytest.mark.parametrize("next_path", ELSEWHERE)
async def test_login_never_sends_the_browser_to_another_site(
    sign_in_app: SignInApp, next_path: str
) -> None:
    response = await login(sign_in_app.http, next_path)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/ops"


@pytest.mark.parametrize("next_path", LOCAL)
async def test_login_follows_a_local_path(sign_in_app: SignInApp, next_path: str) -> None:
    response = await login(sign_in_app.http, next_path)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == next_path
