"""The seller in a browser: activate the account from the account_ready mail, sign in with the
e-mail address, read the status and the notice of a suspension, appeal it with an evidence file
uploaded straight to S3, see the outcome;
another seller's session does not reach the first one's account."""

import uuid

from playwright.async_api import Browser, Page, expect
from sqlmodel import Session, select

from sellerflow.models import Appeal, Notification
from sellerflow.services import evidence, seller_accounts
from sellerflow.users import ensure_user
from tests.journey import (
    DEV_PASSWORD,
    PDF,
    approved_seller,
    decide,
    staff_token,
    suspend,
    wait_for_task,
)
from tests.pages.conftest import DESKTOP, PHONE, Screenshots, new_page
from tests.serve import Site
from tests.support.waiting import eventually

PASSWORD = "a long seller password"


async def activation_link(site: Site, app_id: str) -> str:
    """The activation link of the application's account_ready mail, as the outbox holds it."""

    def stored() -> str | None:
        with Session(site.engine) as session:
            rows = session.exec(
                select(Notification).where(
                    Notification.application_id == uuid.UUID(app_id),
                    Notification.template == "account_ready",
                )
            ).all()
        for row in rows:
            token = seller_accounts.token_in(row.body_text)
            if token:
                return f"/seller/activate?token={token}"
        return None

    return await eventually(stored, why=f"no account_ready mail for {app_id}")


async def activate_and_sign_in(
    page: Page, site: Site, app_id: str, email: str, shots: Screenshots
) -> None:
    await page.goto(await activation_link(site, app_id))
    await page.get_by_label("New password").fill(PASSWORD)
    await page.get_by_label("The same password again").fill(PASSWORD)
    await shots.take(page, "activate")
    await page.get_by_role("button", name="Set password").click()
    await expect(page.get_by_role("status")).to_contain_text("Your password is set")
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


async def test_a_seller_activates_signs_in_appeals_a_suspension_and_is_reinstated(
    browser: Browser, site: Site
) -> None:
    http, shots = site.http, Screenshots("seller")
    email = "portal@example.com"
    app_id, seller_id, _ = await approved_seller(http, site.policy, contact_email=email)
    _, page = await new_page(browser, site, DESKTOP)
    await activate_and_sign_in(page, site, app_id, email, shots)
    await expect(page.get_by_role("heading", name="Status: trial")).to_be_visible()
    await expect(page.get_by_text("Your launching phase")).to_be_visible()
    await shots.take(page, "dashboard-trial")

    ensure_user(site.engine, "ops2", ["ops"], DEV_PASSWORD)
    ops1, ops2 = await staff_token(http, "ops1"), await staff_token(http, "ops2")
    await suspend(http, seller_id, ops1, reason="counterfeit report from a buyer")

    async def suspended() -> bool:
        await page.reload()
        return await page.get_by_role("heading", name="Status: suspended").count() > 0

    await eventually(suspended, why="the dashboard never showed the suspension")
    notice = page.locator("#notices li.notice[data-decision=suspend]")
    await expect(notice).to_contain_text("counterfeit report from a buyer")
    await expect(notice).to_contain_text("a person decided it")
    await expect(notice).to_contain_text("Terms §2-§4")
    await expect(notice).to_contain_text("Before ")  # the end of the appeal window
    await expect(notice).to_contain_text("Out-of-court mediation")
    await expect(page.locator("#notices")).not_to_contain_text("ops1")
    history = page.locator("ol.timeline").last
    await expect(history).to_contain_text("trial → suspended (suspend)")
    await expect(history).to_contain_text("decided by a member of staff")
    await expect(history).not_to_contain_text("ops1")
    # Evidence goes straight to S3 with the presigned form, and back to be checked.
    await page.get_by_label("What the file shows").fill("recall letter")
    await page.get_by_role("button", name="Choose a file to upload").click()
    form = page.locator("#s3-upload")
    assert (await form.get_attribute("action") or "").startswith(site.settings.s3_endpoint_url)
    await page.get_by_label("File").set_input_files(
        {"name": "recall.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    await page.get_by_role("button", name="Upload", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text(
        f"recall letter.pdf uploaded ({len(PDF):,} bytes)"
    )
    await expect(page.locator("#appeal-evidence")).to_contain_text("recall letter.pdf")
    await page.get_by_label("What caused the problem").fill("a supplier batch with fake parts")
    await page.get_by_label("What you have done about it").fill("recalled the batch")
    await page.get_by_label("How you will keep it from happening again").fill("incoming checks")
    await shots.take(page, "appeal-form")
    await page.get_by_role("button", name="File the appeal").click()
    await expect(page.get_by_role("status")).to_contain_text("Your appeal is received")
    await expect(page.get_by_role("button", name="File the appeal")).to_have_count(0)

    review = await wait_for_task(http, ops2, "appeal_review", subject=seller_id)
    with Session(site.engine) as session:
        (appeal,) = session.exec(select(Appeal).where(Appeal.seller_id == uuid.UUID(seller_id)))
        sent = evidence.files_of_appeal(session, appeal.id)
        assert [(e.filename, e.stored_size) for e in sent] == [("recall letter.pdf", len(PDF))]
    decided = await decide(http, ops2, review["id"], "reinstate", comment="plan accepted")
    assert decided.status_code == 200, decided.text

    async def reinstated() -> bool:
        await page.reload()
        return await page.get_by_role("heading", name="Status: trial").count() > 0

    await eventually(reinstated, why="the dashboard never showed the reinstatement")
    await expect(page.get_by_role("table").last).to_contain_text("plan accepted")
    await shots.take(page, "dashboard-reinstated")

    # Another seller, signed in on a phone, reaches its own account only.
    other_email = "other-portal@example.com"
    other_app, other_seller, _ = await approved_seller(http, site.policy, contact_email=other_email)
    _, other = await new_page(browser, site, PHONE)
    await activate_and_sign_in(other, site, other_app, other_email, shots)
    await expect(other.get_by_role("heading", level=1)).to_be_visible()
    assert other_seller != seller_id
    answer = await other.request.get(f"/v1/sellers/{seller_id}")
    assert answer.status == 401  # the page session is a cookie, never a bearer token
    await other.goto(f"/apply/{app_id}")
    await expect(other.get_by_role("heading", name="Not found")).to_be_visible()
    await shots.take(other, "other-seller-refused")
