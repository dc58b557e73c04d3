"""The staff seller pages: the ranking with its filters, counts and pages; a seller's card with
its scorecard, reason records and appeals; the manual-action form (ops only, CSRF-checked);
refusals for visitors who are not staff and for bad addresses."""

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
from playwright.async_api import Browser, expect
from sqlmodel import Session

from api.pages.session import SESSION_COOKIE, csrf_for
from sellerflow.models import Appeal, ScorecardRow, SellerAction, SellerDay, Task, utcnow
from sellerflow.users import ensure_user
from sellerflow.vocabulary import KPI, KpiStatus, Role, SellerStatus, Standing, TaskKind
from tests.journey import DEV_PASSWORD, approved_seller, create_application, staff_token
from tests.pages.conftest import Screenshots
from tests.pages.test_staff_pages import sign_in
from tests.serve import Site
from tests.support.builders import ranked_sellers

LISTED = re.compile(r'<a href="/staff/sellers/[0-9a-f-]{36}">(\w+) Refurb</a>')
FORGED = "did not come from this site"


@asynccontextmanager
async def visitor(site: Site, username: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client: signed in as a staff member (the API's token as the page's
    session cookie), or anonymous."""
    async with httpx.AsyncClient(base_url=site.url, timeout=30) as http:
        if username:
            token = (await staff_token(http, username))["Authorization"].removeprefix("Bearer ")
            http.cookies.set(SESSION_COOKIE, token)
        yield http


def listed(page: httpx.Response) -> list[str]:
    assert page.status_code == 200, page.text
    return LISTED.findall(page.text)


def link(page: httpx.Response, rel: str) -> str | None:
    found = re.search(rf'<a class="button secondary" href="([^"]+)" rel="{rel}">', page.text)
    return found[1].replace("&amp;", "&") if found else None


async def test_the_ranking_filters_counts_and_pages(site: Site) -> None:
    ranked_sellers(site.engine)
    async with visitor(site, "ops1") as ops:
        everyone = await ops.get("/staff/sellers")
        assert listed(everyone) == ["Foxtrot", "Alpha", "Bravo", "Charlie", "Delta", "Echo"]
        assert '<span class="muted small" id="total">6 matching</span>' in everyone.text
        assert 'href="/staff/sellers">Sellers</a>' in everyone.text  # in the navigation
        # The category percentile is 0-100, shown as it is (Alpha: 90).
        alpha = re.search(r">Alpha Refurb</a>.*?</tr>", everyone.text, re.S)
        assert alpha is not None
        assert "<td>90</td>" in alpha[0], alpha[0]

        active = await ops.get("/staff/sellers", params={"status": "active"})
        assert listed(active) == ["Alpha", "Delta"]
        per_status = re.search(r'<p id="per-status">(.*?)</p>', active.text, re.S)
        assert per_status is not None
        assert "active</span> 2" in per_status[1]
        assert "suspended" not in per_status[1]

        assert listed(await ops.get("/staff/sellers?standing=warn")) == ["Bravo"]
        assert listed(await ops.get("/staff/sellers?category=retailer")) == ["Delta", "Echo"]

        first = await ops.get("/staff/sellers", params={"at_risk": "1", "limit": "2"})
        assert listed(first) == ["Foxtrot", "Bravo"]
        assert first.text.count("at risk</span>") == 2
        assert link(first, "prev") is None
        second_href = link(first, "next")
        assert second_href == "/staff/sellers?at_risk=1&limit=2&offset=2"
        second = await ops.get(second_href)
        assert listed(second) == ["Charlie", "Delta"]
        assert link(second, "prev") == "/staff/sellers?at_risk=1&limit=2"
        third_href = link(second, "next")
        assert third_href is not None
        third = await ops.get(third_href)
        assert listed(third) == ["Alpha", "Echo"]
        assert "at risk</span>" not in third.text
        assert link(third, "next") is None
        assert '<span id="shown">5 to 6 of 6</span>' in third.text


async def test_ssm_me_is_the_signed_in_managers_portfolio(site: Site) -> None:
    ranked_sellers(site.engine)
    async with visitor(site, "ssm1") as ssm1, visitor(site, "ssm2") as ssm2:
        assert listed(await ssm1.get("/staff/sellers?ssm=me")) == ["Foxtrot", "Alpha", "Bravo"]
        assert listed(await ssm2.get("/staff/sellers?ssm=me")) == ["Charlie", "Delta"]
        assert listed(await ssm2.get("/staff/sellers?ssm=ssm1&status=warned")) == ["Bravo"]


def week_cells(page: httpx.Response) -> dict[str, str]:
    """The "since last week" cell of each listed seller, by first word of its name."""
    rows = re.findall(
        r'<tr><td><a href="/staff/sellers/[^"]+">(\w+).*?<td class="small week">(.*?)</td>',
        page.text,
        re.S,
    )
    return {name: re.sub(r"<[^>]+>", "", cell).strip() for name, cell in rows}


async def test_the_portfolio_says_what_changed_since_last_week(site: Site) -> None:
    ids = ranked_sellers(site.engine)
    now = utcnow()
    with Session(site.engine) as session:
        for name, back, standing, score in (
            ("Foxtrot Refurb", 8, Standing.good, 97.0),  # the day before the week: not used
            ("Foxtrot Refurb", 7, Standing.warn, 93.0),
            ("Alpha Refurb", 7, Standing.good, 90.0),
        ):
            session.add(
                SellerDay(
                    seller_id=ids[name],
                    day=(now - timedelta(days=back)).date(),
                    standing=standing,
                    score=score,
                )
            )
        session.add(
            SellerAction(
                seller_id=ids["Foxtrot Refurb"],
                idempotency_key="test:week",
                from_status=SellerStatus.limited,
                to_status=SellerStatus.suspended,
                action="suspend",
                actor="system",
                created_at=now - timedelta(days=2),
            )
        )
        session.commit()
    async with visitor(site, "ssm1") as ssm1:
        portfolio = await ssm1.get("/staff/sellers?ssm=me&at_risk=1")
        assert 'href="/staff/sellers?ssm=me&amp;at_risk=1">My portfolio</a>' in portfolio.text
        assert week_cells(portfolio) == {
            "Foxtrot": "standing warn → limit; score +2.0; limited → suspended",
            "Bravo": "no evaluation a week ago",
            "Alpha": "no change",
        }


async def test_the_inbox_names_the_seller_a_task_is_about(site: Site) -> None:
    """A lab member sees which seller a mystery order is from, not a fragment of its id."""
    ids = ranked_sellers(site.engine)
    with Session(site.engine) as session:
        session.add(
            Task(
                id=uuid.uuid4(),
                kind=TaskKind.mystery_order,
                workflow_id="seller-x",
                seller_id=ids["Bravo Refurb"],
                role=Role.lab,
                due_at=utcnow() + timedelta(days=1),
            )
        )
        session.commit()
    async with visitor(site, "lab1") as lab:
        inbox = await lab.get("/staff")
    assert inbox.status_code == 200, inbox.text
    row = re.search(r"mystery order</a>.*?</tr>", inbox.text, re.S)
    assert row is not None
    assert "Bravo Refurb" in row[0], row[0]


async def test_a_bad_filter_is_a_readable_4xx_page(site: Site) -> None:
    ranked_sellers(site.engine)
    async with visitor(site, "ops1") as ops:
        for query, field in [
            ("standing=excellent", "standing"),
            ("status=gone", "status"),
            ("at_risk=perhaps", "at_risk"),
            ("limit=0", "limit"),
        ]:
            answer = await ops.get(f"/staff/sellers?{query}")
            assert answer.status_code == 422, query
            assert "<h1>Invalid address</h1>" in answer.text
            assert f"Check the link and retry ({field}:" in answer.text
        unknown = await ops.get(f"/staff/sellers/{uuid.uuid4()}")
        assert unknown.status_code == 404
        assert "No seller with this id" in unknown.text
        assert (await ops.get("/staff/sellers/not-an-id")).status_code == 422


async def test_applicants_and_anonymous_visitors_cannot_see_the_seller_pages(site: Site) -> None:
    ids = ranked_sellers(site.engine)
    _, applicant = await create_application(site.http, settings=site.settings)
    card = f"/staff/sellers/{ids['Alpha Refurb']}"
    async with visitor(site) as stranger:
        for path in ("/staff/sellers", card):
            anonymous = await stranger.get(path)
            assert anonymous.status_code == 303, path
            assert anonymous.headers["location"] == f"/login?next={path}"
            stranger.cookies.set(SESSION_COOKIE, applicant["Authorization"][len("Bearer ") :])
            signed_in = await stranger.get(path)
            stranger.cookies.clear()
            assert signed_in.status_code == 303, path
            assert signed_in.headers["location"].startswith("/login?next=")
            assert "Alpha Refurb" not in signed_in.text


def card_records(site: Site, seller_id: uuid.UUID) -> None:
    """Two KPIs (one without enough data), a status change and an appeal."""
    at = datetime(2026, 6, 30, 12, tzinfo=UTC)
    with Session(site.engine) as session:
        for kpi, value, status in [
            (KPI.late_shipment_rate, 0.031, KpiStatus.good),
            (KPI.review_rating, None, KpiStatus.not_enough_data),
        ]:
            session.add(
                ScorecardRow(
                    seller_id=seller_id,
                    kpi=kpi,
                    window_days=30,
                    numerator=1 if value else 0,
                    denominator=32 if value else 3,
                    value=value,
                    warn=0.04,
                    limit=0.06,
                    status=status,
                    evaluated_at=at,
                )
            )
        session.add(
            SellerAction(
                seller_id=seller_id,
                idempotency_key=f"test:{seller_id}",
                from_status=SellerStatus.active,
                to_status=SellerStatus.suspended,
                action="suspend",
                actor="ops2",
                reason={"summary": "manual suspend: counterfeit report"},
                created_at=at,
            )
        )
        session.add(
            Appeal(seller_id=seller_id, root_cause="a bad batch", actions="b", prevention="c")
        )
        for back, rate in ((2, 0.02), (1, None), (0, 0.031)):  # a day without enough data
            session.add(
                SellerDay(
                    seller_id=seller_id,
                    day=(at - timedelta(days=back)).date(),
                    standing=Standing.good,
                    score=80.0,
                    kpis={KPI.late_shipment_rate.value: rate, KPI.review_rating.value: None},
                    samples={KPI.late_shipment_rate.value: 32, KPI.review_rating.value: 3},
                )
            )
        session.commit()


async def test_the_seller_card_and_who_gets_the_manual_action_form(site: Site) -> None:
    ids = ranked_sellers(site.engine)
    seller_id = ids["Foxtrot Refurb"]
    card_records(site, seller_id)
    card = f"/staff/sellers/{seller_id}"
    async with visitor(site, "ops1") as ops, visitor(site, "onboarding1") as onboarding:
        seen = await ops.get(card)
        assert seen.status_code == 200, seen.text
        scorecard = re.search(r'<table id="scorecard".*?</table>', seen.text, re.S)
        assert scorecard is not None
        rows = re.findall(r"<tr><td>(.*?)</td>\s*<td>(.*?)</td>", scorecard[0], re.S)
        assert [(kpi, "not enough data yet" in value) for kpi, value in rows] == [
            ("late shipment rate", False),
            ("review rating", True),
        ]
        assert "<td>0.031</td>" in scorecard[0]
        trends = re.findall(
            r'<svg class="trend".*?data-kpi="(\w+)">(.*?)</svg>', scorecard[0], re.S
        )
        assert [kpi for kpi, _ in trends] == ["late_shipment_rate", "review_rating"]
        assert "latest 0.031" in trends[0][1]
        assert trends[0][1].count("<circle") == 2, "two days with data around one without"
        assert "latest no data" in trends[1][1]
        api = await site.http.get(
            f"/v1/sellers/{seller_id}", headers=await staff_token(site.http, "ops1")
        )
        assert [(d["day"], d["kpis"]["late_shipment_rate"]) for d in api.json()["trend"]] == [
            ("2026-06-28", 0.02),
            ("2026-06-29", None),
            ("2026-06-30", 0.031),
        ]
        assert "manual suspend: counterfeit report" in seen.text
        assert "<td>ops2</td>" in seen.text  # staff see who decided
        assert "a bad batch" in seen.text
        assert 'class="badge pending">pending</span>' in seen.text
        assert 'id="manual-action"' in seen.text
        assert 'href="/ops/applications/' in seen.text

        not_ops = await onboarding.get(card)
        assert not_ops.status_code == 200
        assert "not enough data yet" in not_ops.text
        assert 'id="manual-action"' not in not_ops.text
        assert 'href="/ops/applications/' not in not_ops.text

        action = {"action": "warn", "reason": "late shipments"}
        forged = await ops.post(f"{card}/actions", data=action)
        assert forged.status_code == 403
        assert FORGED in forged.text
        secret = site.settings.sellerflow_secret_key
        ops_csrf = csrf_for(secret, ops.cookies[SESSION_COOKIE])
        onboarding_csrf = csrf_for(secret, onboarding.cookies[SESSION_COOKIE])
        refused = await onboarding.post(
            f"{card}/actions", data={**action, "csrf_token": onboarding_csrf}
        )
        assert refused.status_code == 403
        assert "This page is for the ops role" in refused.text

        # No workflow runs for a seller written straight to the database: the refusal is shown.
        sent = await ops.post(f"{card}/actions", data={**action, "csrf_token": ops_csrf})
        assert sent.status_code == 303
        assert sent.headers["location"] == card
        back = await ops.get(card)
        assert re.search(
            r'class="flash error" role="alert">The workflow has already finished', back.text
        )
        empty = await ops.post(f"{card}/actions", data={"action": "warn", "csrf_token": ops_csrf})
        assert empty.status_code == 303
        assert "Check the form: reason:" in (await ops.get(card)).text


async def test_ops_suspend_a_seller_from_its_card(site: Site, browser: Browser) -> None:
    shots = Screenshots("sellers")
    _, seller_id, _ = await approved_seller(site.http, site.policy)
    ops = await sign_in(browser, site, "ops1", shots)
    await ops.get_by_role("link", name="Sellers", exact=True).click()
    await expect(ops.locator("#total")).to_have_text("1 matching")
    await shots.take(ops, "ranking")
    await ops.get_by_role("link", name=re.compile("Refurb")).first.click()
    assert ops.url.endswith(f"/staff/sellers/{seller_id}")
    await expect(ops.locator("#status")).to_have_text("trial")
    await ops.get_by_label("Action", exact=True).select_option("suspend")
    await ops.get_by_label("Reason").fill("counterfeit report")
    await ops.get_by_role("button", name="Apply the action").click()
    await expect(ops.get_by_role("status")).to_have_text(
        "Action suspend recorded: the seller is suspended"
    )
    await expect(ops.locator("#status")).to_have_text("suspended")
    await expect(ops.locator("#actions")).to_contain_text(
        "manual suspend by ops1: counterfeit report"
    )
    # Staff read the statement the seller was given, and who decided it.
    # The timeline across the seller workflow's runs, newest first.
    await expect(ops.locator("#timeline li").first).to_contain_text("suspended")
    notice = ops.locator("#notices li.notice[data-decision=suspend]")
    await expect(notice).to_contain_text("a person decided it (ops1)")
    await expect(notice).to_contain_text("Listings offline, no new orders, payouts held.")
    await shots.take(ops, "suspended")
    await ops.context.close()


async def test_an_offboarding_asked_on_the_card_waits_for_another_ops_member(site: Site) -> None:
    ids = ranked_sellers(site.engine)
    card = f"/staff/sellers/{ids['Alpha Refurb']}"
    ensure_user(site.engine, "ops2", ["ops"], DEV_PASSWORD)
    async with visitor(site, "ops1") as ops1, visitor(site, "ops2") as ops2:
        secret = site.settings.sellerflow_secret_key
        form = {"action": "offboard", "reason": "listings copied", "csrf_token": ""}
        form["csrf_token"] = csrf_for(secret, ops1.cookies[SESSION_COOKIE])
        asked = await ops1.post(f"{card}/actions", data=form)
        assert asked.status_code == 303
        mine = await ops1.get(card)
        assert "Offboarding asked: another ops member confirms it" in mine.text
        assert 'id="offboarding-request"' in mine.text
        assert "Confirm: give the offboarding notice" not in mine.text
        assert "Another ops member confirms the offboarding you asked for" in mine.text
        again = await ops1.post(f"{card}/actions", data={**form, "reason": "a second one"})
        assert again.status_code == 303
        assert "waits for confirmation" in (await ops1.get(card)).text

        theirs = await ops2.get(card)
        assert "Confirm: give the offboarding notice" in theirs.text
        cancel = re.search(r'action="([^"]+/cancel)"', theirs.text)
        assert cancel is not None
        csrf2 = csrf_for(secret, ops2.cookies[SESSION_COOKIE])
        cancelled = await ops2.post(cancel[1], data={"csrf_token": csrf2})
        assert cancelled.status_code == 303
        after = await ops2.get(card)
        assert "Offboarding request cancelled" in after.text
        assert 'id="offboarding-request"' not in after.text
        stale = await ops2.post(
            cancel[1].replace("/cancel", "/confirm"), data={"csrf_token": csrf2}
        )
        assert stale.status_code == 303
        assert "is cancelled already" in (await ops2.get(card)).text
