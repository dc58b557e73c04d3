"""The ops pages of policy versions, read over HTTP with an ops session: the versions, a
version's diff, and a what-if's chart and affected sellers linking to their staff pages."""

import html
import json
import random
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest_asyncio
from sqlmodel import Session, select

from api.pages.session import SESSION_COOKIE, csrf_for
from sellerflow.models import PolicySimulation, PolicyVersion
from sellerflow.policy.model import Policy
from sellerflow.services import policies
from sellerflow.simulation import simulate
from sellerflow.users import ensure_user
from sellerflow.vocabulary import SimulationStatus
from tests.api.conftest import Api, api_without_worker
from tests.api.test_policies import stricter_rules
from tests.conftest import make_settings
from tests.db.test_simulation import seed, stricter
from tests.journey import DEV_PASSWORD, staff_token
from tests.support.builders import AS_OF


@pytest_asyncio.fixture
async def api(tmp_path: Path, temporal_address: str, s3_endpoint: str) -> AsyncIterator[Api]:
    async with api_without_worker(make_settings(tmp_path, temporal_address, s3_endpoint)) as api:
        yield api


async def as_staff(api: Api, username: str, path: str) -> httpx.Response:
    token = (await staff_token(api.http, username))["Authorization"].removeprefix("Bearer ")
    api.http.cookies.clear()
    api.http.cookies.set(SESSION_COOKIE, token)
    try:
        return await api.http.get(path)
    finally:
        api.http.cookies.clear()


async def test_the_versions_and_a_versions_diff(api: Api) -> None:
    ops = await staff_token(api.http, "ops1")
    created = await api.http.post("/v1/policies", json={"rules": stricter_rules()}, headers=ops)
    assert created.status_code == 201, created.text

    listed = await as_staff(api, "ops1", "/ops/policies")
    one = await as_staff(api, "ops1", "/ops/policies/stricter-late-shipment-1")

    assert listed.status_code == 200, listed.text
    assert 'href="/ops/policies/stricter-late-shipment-1"' in listed.text
    assert one.status_code == 200, one.text
    row = re.search(r"<tr><td><code>kpis.late_shipment_rate.warn</code>.*?</tr>", one.text, re.S)
    assert row is not None, one.text
    assert "0.08" in row[0]
    assert "0.05" in row[0]
    assert "durations.trial" not in one.text


async def test_a_what_if_page_charts_the_standings_and_links_the_sellers(api: Api) -> None:
    with api.engine.begin() as conn:
        seed(conn, random.Random(19), sellers=30)
    base = Policy.model_validate(stricter_rules())
    proposed = stricter(base)
    with api.engine.connect() as conn:
        result = simulate(conn, base, proposed, AS_OF, chunk_size=100)
    assert result["changes"]
    with Session(api.engine) as session:
        policies.seed_built_in(session, base)
        simulation = PolicySimulation(
            version=base.version,
            baseline=base.version,
            status=SimulationStatus.completed,
            as_of=AS_OF,
            requested_by="ops1",
            result=result,
        )
        session.add(simulation)
        session.commit()
        simulation_id = simulation.id

    answer = await as_staff(api, "ops1", f"/ops/policies/simulations/{simulation_id}")
    refused = await as_staff(api, "onboarding1", f"/ops/policies/simulations/{simulation_id}")
    missing = await as_staff(api, "ops1", "/ops/policies/no-such-version")

    assert answer.status_code == 200, answer.text
    page = answer.text
    for standing in ("good", "warn", "limit"):
        for side in ("current", "proposed"):
            value = result["standings"][side][standing]
            assert f"<title>{standing}, {side}: {value}</title>" in page
    for change in result["changes"]:
        assert f'href="/staff/sellers/{change["seller_id"]}"' in page
    assert f"<strong>{result['changed']}</strong> of {result['sellers']} sellers" in page
    assert refused.status_code == 403
    assert missing.status_code == 404


async def post_as(api: Api, username: str, path: str, data: dict[str, str]) -> httpx.Response:
    """A form posted from a page of `username`'s session, with its CSRF token; then the page
    it leads to, with the message it shows once."""
    token = (await staff_token(api.http, username))["Authorization"].removeprefix("Bearer ")
    api.http.cookies.clear()
    api.http.cookies.set(SESSION_COOKIE, token)
    try:
        csrf = csrf_for(api.settings.sellerflow_secret_key, token)
        sent = await api.http.post(path, data={**data, "csrf_token": csrf})
        assert sent.status_code == 303, sent.text
        return await api.http.get(sent.headers["location"])
    finally:
        api.http.cookies.clear()


async def test_a_version_is_approved_and_its_rollout_scheduled_from_its_page(api: Api) -> None:
    ensure_user(api.engine, "ops2", ["ops"], DEV_PASSWORD)
    ops = await staff_token(api.http, "ops1")
    await api.http.post("/v1/policies", json={"rules": stricter_rules()}, headers=ops)
    url = "/ops/policies/stricter-late-shipment-1"
    draft = await as_staff(api, "ops1", url)
    assert f'action="{url}/approve"' in draft.text
    api.http.cookies.set(SESSION_COOKIE, ops["Authorization"].removeprefix("Bearer "))
    forged = await api.http.post(f"{url}/approve")
    api.http.cookies.clear()
    assert forged.status_code == 403

    own = await post_as(api, "ops1", f"{url}/approve", {})
    assert "approved by someone other than its proposer" in own.text
    approved = await post_as(api, "ops2", f"{url}/approve", {})
    assert "Policy stricter-late-shipment-1 approved" in approved.text
    assert f'action="{url}/rollout"' in approved.text

    soon = datetime.now(UTC) + timedelta(days=3)
    refused = await post_as(
        api, "ops2", f"{url}/rollout", {"effective_at": f"{soon:%Y-%m-%dT%H:%M}"}
    )
    assert "at least 15 days from now" in refused.text
    later = datetime.now(UTC) + timedelta(days=20)
    scheduled = await post_as(
        api, "ops2", f"{url}/rollout", {"effective_at": f"{later:%Y-%m-%dT%H:%M}"}
    )
    assert "Rollout scheduled" in scheduled.text
    assert 'id="rollout"' in scheduled.text
    assert f'action="{url}/rollout"' not in scheduled.text
    with Session(api.engine) as session:
        row = session.get(PolicyVersion, "stricter-late-shipment-1")
        assert row is not None
        assert row.status == "scheduled"


async def post_form(api: Api, username: str, path: str, data: dict[str, str]) -> httpx.Response:
    """A form posted from a page of `username`'s session, with its CSRF token: its answer."""
    token = (await staff_token(api.http, username))["Authorization"].removeprefix("Bearer ")
    api.http.cookies.clear()
    api.http.cookies.set(SESSION_COOKIE, token)
    try:
        csrf = csrf_for(api.settings.sellerflow_secret_key, token)
        return await api.http.post(path, data={**data, "csrf_token": csrf})
    finally:
        api.http.cookies.clear()


async def test_a_draft_is_proposed_from_a_versions_page(api: Api) -> None:
    active = (await as_staff(api, "ops1", "/ops/policies")).text
    [version] = re.findall(r'href="/ops/policies/([^"]+)"', active)[:1]
    page = await as_staff(api, "ops1", f"/ops/policies/{version}")
    assert f'action="/ops/policies/{version}/propose"' in page.text
    assert f"{version}-next" in page.text  # the form starts from this version's rules

    rules = stricter_rules("stricter-from-the-page")
    rules["kpis"]["late_shipment_rate"]["window_days"] = -3
    typed = json.dumps(rules)
    refused = await post_form(api, "ops1", f"/ops/policies/{version}/propose", {"rules": typed})
    assert refused.status_code == 422, refused.text
    assert "kpis.late_shipment_rate.window_days" in refused.text
    kept = re.search(r'<textarea id="rules"[^>]*>(.*?)</textarea>', refused.text, re.S)
    assert kept is not None
    assert html.unescape(kept[1]) == typed  # the edit is shown again, not lost
    not_json = await post_form(api, "ops1", f"/ops/policies/{version}/propose", {"rules": "{"})
    assert not_json.status_code == 422
    assert "Not rules in JSON" in not_json.text

    rules["kpis"]["late_shipment_rate"]["window_days"] = 30
    proposed = await post_as(
        api, "ops1", f"/ops/policies/{version}/propose", {"rules": json.dumps(rules)}
    )
    assert "Draft stricter-from-the-page proposed" in proposed.text
    assert 'action="/ops/policies/stricter-from-the-page/approve"' in proposed.text
    with Session(api.engine) as session:
        row = session.get(PolicyVersion, "stricter-from-the-page")
        assert row is not None
        assert (row.status, row.proposed_by) == ("draft", "ops1")
        assert row.rules["kpis"]["late_shipment_rate"]["warn"] == 0.05
    again = await post_form(
        api, "ops2", f"/ops/policies/{version}/propose", {"rules": json.dumps(rules)}
    )
    assert again.status_code == 422  # the name is taken
    with Session(api.engine) as session:
        assert session.get(PolicyVersion, "stricter-from-the-page") is not None


async def test_a_what_if_is_started_from_a_versions_page(api: Api) -> None:
    ops = await staff_token(api.http, "ops1")
    await api.http.post("/v1/policies", json={"rules": stricter_rules()}, headers=ops)
    url = "/ops/policies/stricter-late-shipment-1"
    page = await as_staff(api, "ops1", url)
    assert f'action="{url}/simulations"' in page.text

    bad = await post_as(api, "ops1", f"{url}/simulations", {"as_of": "yesterday"})
    assert "Give the date the what-if looks back to" in bad.text
    started = await post_as(api, "ops1", f"{url}/simulations", {"as_of": ""})
    assert "What-if started" in started.text
    with Session(api.engine) as session:
        [row] = session.exec(select(PolicySimulation)).all()
        assert (row.version, row.requested_by) == ("stricter-late-shipment-1", "ops1")
        assert row.status == SimulationStatus.running  # no worker here to run it
