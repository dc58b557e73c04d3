"""Staff and ops in a browser: sign in, claim and decide from the inbox, four-eyes sign-off, a
clear refusal for a task someone else holds; the ops history, dashboard and outbox."""

import re

from playwright.async_api import Browser, Page, expect

from sellerflow.vocabulary import Stage
from tests.journey import (
    APPLICATION,
    approved_seller,
    complete_application,
    create_application,
    staff_token,
    wait_for_stage,
)
from tests.pages.conftest import DESKTOP, Screenshots, new_page
from tests.serve import Site
from tests.support.waiting import eventually

DEV_PASSWORD = "dev-password"


async def sign_in(browser: Browser, site: Site, username: str, shots: Screenshots) -> Page:
    _, page = await new_page(browser, site, DESKTOP)
    await page.goto("/staff")
    assert "/login?next=/staff" in page.url
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(DEV_PASSWORD)
    await shots.take(page, f"login-{username}")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("status")).to_have_text(f"Hello {username}")
    return page


async def open_task(page: Page, shots: Screenshots, kind: str, name: str) -> str:
    """Waits until the workflow has opened the task, then opens it from the inbox."""
    link = page.get_by_role("row", name=re.compile(APPLICATION["legal_name"])).get_by_role(
        "link", name=kind.replace("_", " ")
    )

    async def listed() -> bool:
        if await link.count():
            return True
        await page.reload()
        return False

    await eventually(listed, timeout=20, interval=0.2, why=f"no {kind} task in the inbox")
    await shots.take(page, f"inbox-{name}")
    await link.click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(APPLICATION["legal_name"])
    await shots.take(page, f"task-{name}")
    return page.url


async def claim_and_approve(page: Page, shots: Screenshots, name: str) -> None:
    await page.get_by_role("button", name="Claim").click()
    await expect(page.get_by_role("status")).to_have_text("You hold this task now")
    await shots.take(page, f"claimed-{name}")
    await page.get_by_label("approve").check()
    await page.get_by_role("button", name="Record decision").click()
    await expect(page.get_by_role("status")).to_contain_text("Decision recorded: approve")
    await shots.take(page, f"decided-{name}")


async def test_review_sign_off_and_a_task_held_by_someone_else(
    site: Site, browser: Browser
) -> None:
    shots = Screenshots("staff")
    app_id, auth = await create_application(site.http, settings=site.settings)
    await complete_application(site.http, site.policy, app_id, auth)
    submitted = await site.http.post(f"/v1/applications/{app_id}/submit", headers=auth)
    assert submitted.status_code == 200, submitted.text

    reviewer = await sign_in(browser, site, "onboarding1", shots)
    task_url = await open_task(reviewer, shots, "onboarding_review", "review")
    # The automated checks, each with its result and source, before the reviewer decides.
    checks = reviewer.locator("#checks")
    await expect(checks.locator("#check-vat_number")).to_contain_text("passed")
    await expect(checks.locator("#check-vat_number")).to_contain_text("python-stdnum")
    await expect(checks.locator("#check-company_registry")).to_contain_text("passed")
    await reviewer.get_by_role("button", name="Claim").click()
    await expect(reviewer.locator("#assignee")).to_have_text("onboarding1")

    other = await sign_in(browser, site, "onboarding2", shots)
    await other.goto(task_url)
    await expect(other.get_by_role("button", name="Claim")).to_have_count(0)
    await other.get_by_label("approve").check()
    async with other.expect_response(lambda r: r.url.endswith("/complete")) as answer:
        await other.get_by_role("button", name="Record decision").click()
    assert (await answer.value).status == 409
    await expect(other.locator("#message")).to_have_text("Claim the task before completing it")
    await shots.take(other, "refused-held-by-other")
    forbidden = await other.goto("/ops")
    assert forbidden is not None
    assert forbidden.status == 403
    await shots.take(other, "ops-forbidden")

    await reviewer.goto(task_url)
    await reviewer.get_by_label("approve").check()
    await reviewer.get_by_role("button", name="Record decision").click()
    await expect(reviewer.get_by_role("status")).to_contain_text("Decision recorded: approve")
    await shots.take(reviewer, "decided-review")

    manager = await sign_in(browser, site, "ssm1", shots)
    await open_task(manager, shots, "ssm_signoff", "signoff")
    await claim_and_approve(manager, shots, "signoff")
    await wait_for_stage(site.http, auth, app_id, Stage.approved.value)
    ops = await staff_token(site.http, "ops1")  # the applicant is not told who decided
    approved = (await site.http.get(f"/v1/applications/{app_id}", headers=ops)).json()
    assert [d["actor"] for d in approved["decisions"]] == ["onboarding1", "ssm1"]
    assert [(c["code"], c["status"]) for c in approved["checks"]] == [
        ("vat_number", "passed"),
        ("company_registry", "passed"),
        ("sanctions", "unavailable"),  # no list loaded in the tests' database
        ("duplicates", "passed"),
    ]
    for page in (reviewer, other, manager):
        await page.context.close()


async def test_approving_over_a_duplicate_and_the_sign_off_seeing_it(
    site: Site, browser: Browser
) -> None:
    shots = Screenshots("override")
    earlier, _ = await create_application(site.http, settings=site.settings)
    app_id, auth = await create_application(site.http, settings=site.settings)
    await complete_application(site.http, site.policy, app_id, auth)
    submitted = await site.http.post(f"/v1/applications/{app_id}/submit", headers=auth)
    assert submitted.status_code == 200, submitted.text

    reviewer = await sign_in(browser, site, "onboarding1", shots)
    await open_task(reviewer, shots, "onboarding_review", "review")
    await expect(reviewer.locator("#check-duplicates")).to_contain_text("needs review")
    await expect(reviewer.locator("#check-duplicates")).to_contain_text(earlier)
    await reviewer.get_by_role("button", name="Claim").click()
    await expect(reviewer.locator("#assignee")).to_have_text("onboarding1")
    await reviewer.get_by_label("approve").check()
    await reviewer.get_by_role("button", name="Record decision").click()
    await expect(reviewer.locator("#message")).to_contain_text("check_overridden")
    await reviewer.get_by_label("An automated check's finding overridden").check()
    await reviewer.get_by_label("approve").check()
    await reviewer.get_by_role("button", name="Record decision").click()
    await expect(reviewer.get_by_role("status")).to_contain_text("Decision recorded: approve")

    manager = await sign_in(browser, site, "ssm1", shots)
    await open_task(manager, shots, "ssm_signoff", "signoff")
    overrides = manager.locator("#overrides")
    await expect(overrides).to_contain_text("onboarding1 approved the review")
    await expect(overrides).to_contain_text("duplicates")
    await shots.take(manager, "signoff-overrides")
    for page in (reviewer, manager):
        await page.context.close()


async def test_ops_history_dashboard_and_outbox(site: Site, browser: Browser) -> None:
    shots = Screenshots("ops")
    app_id, seller_id, _ = await approved_seller(site.http, site.policy)
    ops = await sign_in(browser, site, "ops1", shots)

    await ops.goto("/ops")
    charts = ops.locator("svg.chart")
    await expect(charts).to_have_count(6)
    per_stage = ops.locator("svg.chart").first
    await expect(per_stage.locator("desc")).to_contain_text("approved: 1")
    throughput = ops.locator("svg.chart").nth(4)
    await expect(throughput.locator("desc")).to_contain_text("onboarding1: 1")
    await expect(throughput.locator("desc")).to_contain_text("ssm1: 1")
    await expect(ops.locator("#applied")).to_have_text("1")
    await shots.take(ops, "dashboard")

    await ops.get_by_role("link", name=APPLICATION["legal_name"]).click()
    assert ops.url.endswith(f"/ops/applications/{app_id}")
    timeline = ops.locator("ol.timeline")
    await expect(timeline).to_contain_text("task completed: approve by onboarding1")
    await expect(timeline).to_contain_text("task completed: approve by ssm1")
    await expect(ops.locator("#stage")).to_have_text("approved")
    ui = site.settings.temporal_ui_url
    link = ops.get_by_role("link", name=f"seller-{seller_id}")
    expected = f"{ui}/namespaces/default/workflows/seller-{seller_id}"
    assert await link.get_attribute("href") == expected
    await shots.take(ops, "history")

    await ops.get_by_role("link", name="Outbox").click()
    frames = ops.locator("iframe.mail")
    assert await frames.count() >= 2
    assert await frames.first.get_attribute("sandbox") == ""
    await expect(ops.get_by_text("ada@refurb.example").first).to_be_visible()
    await ops.locator("details summary", has_text="HTML as rendered").first.click()
    await shots.take(ops, "outbox")
    await ops.context.close()
