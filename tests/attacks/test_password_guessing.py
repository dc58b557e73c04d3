"""Password guessing is throttled per username and per client address: after 5 failures in 15
minutes the token endpoint and the login page answer 429 with Retry-After, even to the right
password; an unknown or disabled user costs a password check like any other, and the counters
hold no username or address."""

import re
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from sellerflow.models import LoginThrottle, StaffUser
from sellerflow.services import auth
from sellerflow.services.login_throttle import MAX_FAILURES, WINDOW
from sellerflow.users import ensure_user
from tests.attacks.conftest import SignInApp
from tests.journey import DEV_PASSWORD

THROTTLE = LoginThrottle.__table__  # type: ignore[attr-defined]


async def token(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await http.post("/v1/auth/token", data={"username": username, "password": password})


async def fail(app: SignInApp, username: str, address: str, times: int = MAX_FAILURES) -> None:
    async with app.client_at(address) as http:
        for _ in range(times):
            assert (await token(http, username, "guess")).status_code == 401


def assert_throttled(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert 0 < int(response.headers["retry-after"]) <= WINDOW.total_seconds()


async def test_a_username_out_of_attempts_is_refused_from_every_address(
    sign_in_app: SignInApp,
) -> None:
    for attempt in range(MAX_FAILURES):
        await fail(sign_in_app, "ops1", f"10.0.0.{attempt}", times=1)
    async with sign_in_app.client_at("10.0.1.1") as http:
        refused = await token(http, "ops1", DEV_PASSWORD)
        assert_throttled(refused)
        assert refused.json() == {
            "error": "TooManyAttempts",
            "detail": "too many failed sign-ins; try again later",
        }
        assert (await token(http, "ssm1", DEV_PASSWORD)).status_code == 200


async def test_an_address_out_of_attempts_is_refused_for_every_username(
    sign_in_app: SignInApp,
) -> None:
    for name in ("ssm1", "ssm2", "lab1", "nobody", "onboarding2"):
        await fail(sign_in_app, name, "10.0.0.9", times=1)
    async with sign_in_app.client_at("10.0.0.9") as http:
        assert_throttled(await token(http, "ops1", DEV_PASSWORD))
    async with sign_in_app.client_at("10.0.0.10") as http:
        assert (await token(http, "ops1", DEV_PASSWORD)).status_code == 200


async def test_fewer_failures_or_an_ended_window_let_the_right_password_in(
    sign_in_app: SignInApp,
) -> None:
    await fail(sign_in_app, "ops1", "10.0.0.1", times=MAX_FAILURES - 1)
    async with sign_in_app.client_at("10.0.0.2") as http:
        assert (await token(http, "ops1", DEV_PASSWORD)).status_code == 200
    await fail(sign_in_app, "lab1", "10.0.0.3")
    with sign_in_app.engine.begin() as conn:  # 15 minutes and a second later
        for key, started in conn.execute(sa.select(THROTTLE.c.key, THROTTLE.c.window_started_at)):
            earlier = started - WINDOW - timedelta(seconds=1)
            conn.execute(
                sa.update(THROTTLE).where(THROTTLE.c.key == key).values(window_started_at=earlier)
            )
    async with sign_in_app.client_at("10.0.0.3") as http:
        assert (await token(http, "lab1", DEV_PASSWORD)).status_code == 200


async def test_the_login_page_is_throttled_too(sign_in_app: SignInApp) -> None:
    async with sign_in_app.client_at("10.0.0.7") as http:
        page = await http.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf, page.text
        form = {"csrf_token": csrf[1], "username": "ops1", "password": "guess", "next": ""}
        for _ in range(MAX_FAILURES):
            assert (await http.post("/login", data=form)).status_code == 401
        refused = await http.post("/login", data={**form, "password": DEV_PASSWORD})
    assert_throttled(refused)
    assert "Too many failed sign-ins" in refused.text


@pytest.mark.parametrize("who", ["nobody", "disabled1"])
async def test_an_unknown_or_disabled_user_costs_a_password_check(
    sign_in_app: SignInApp, who: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_user(sign_in_app.engine, "disabled1", ["ops"], DEV_PASSWORD)
    with Session(sign_in_app.engine) as session:
        user = session.exec(select(StaffUser).where(StaffUser.username == "disabled1")).one()
        user.disabled = True
        session.add(user)
        session.commit()
    checked: list[str] = []
    real = auth.verify_password

    def counting(password_hash: str, password: str) -> bool:
        checked.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", counting)
    assert (await token(sign_in_app.http, who, DEV_PASSWORD)).status_code == 401
    assert checked == [DEV_PASSWORD]


async def test_the_counters_hold_no_username_or_address(sign_in_app: SignInApp) -> None:
    await fail(sign_in_app, "Ops1.Person@example.com", "203.0.113.77", times=2)
    with sign_in_app.engine.connect() as conn:
        rows = conn.execute(sa.select(THROTTLE)).all()
    assert sorted(row.failures for row in rows) == [2, 2]
    for row in rows:
        assert re.fullmatch(r"[0-9a-f]{64}", row.key)
        text = repr(tuple(row)).lower()
        assert "ops1" not in text
        assert "203.0.113" not in text
