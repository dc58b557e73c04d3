"""The applicant's whole journey in a browser: start, upload through S3's presigned form, sign,
submit; and the session's protections (CSRF, HttpOnly cookie, one application per session)."""

import re
from datetime import date, timedelta

from playwright.async_api import Browser, Page, expect

from sellerflow.policy.requirements import required_agreements, required_documents
from sellerflow.templating import current_agreement
from sellerflow.vocabulary import SellerCategory
from tests.journey import APPLICATION, PDF, outbox_token
from tests.pages.conftest import PHONE, Screenshots, new_page
from tests.serve import Site


async def start_application(page: Page, shots: Screenshots) -> str:
    await page.goto("/apply")
    await shots.take(page, "start")
    await page.get_by_label("Legal name of the company").fill("Refurb Works GmbH")
    await page.get_by_label("Kind of seller").select_option("refurbishing_factory")
    await page.get_by_label("Country").fill("DE")
    await page.get_by_label("Company registration number").fill("HRB 123456")
    await page.get_by_label("VAT number").fill(APPLICATION["vat_number"])
    await page.get_by_label("Contact person").fill("Ada Example")
    await page.get_by_label("Contact email").fill("ada@refurb.example")
    await page.get_by_label("smartphones").check()
    await page.get_by_role("button", name="Start application").click()
    await expect(page.get_by_role("status")).to_have_text("Application started")
    match = re.search(r"/apply/([0-9a-f-]{36})$", page.url)
    assert match, page.url
    await shots.take(page, "dashboard")
    return match.group(1)


async def confirm_email(page: Page, shots: Screenshots, site: Site, app_id: str) -> None:
    """Until the link of the first mail is opened, the page asks for it and offers no upload."""
    notice = page.locator("#confirm-email")
    await expect(notice).to_contain_text("Confirm your e-mail address")
    await expect(page.locator("form.upload")).to_have_count(0)
    token = await outbox_token(site.engine, app_id)
    await page.goto(f"/apply/{app_id}/confirm-email?token={token}")
    await shots.take(page, "confirm-email")
    await page.get_by_role("button", name="Confirm my e-mail address").click()
    await expect(page.get_by_role("status")).to_contain_text("Your e-mail address is confirmed")
    await page.get_by_role("link", name="Go to your application").click()
    await expect(notice).to_have_count(0)


async def upload_document(page: Page, shots: Screenshots, kind: str, s3_endpoint: str) -> None:
    section = page.locator(f"#req-{kind}")
    today = date.today()
    if await section.locator("input[name=issued_on]").count():
        await section.locator("input[name=issued_on]").fill(str(today - timedelta(days=10)))
    if await section.locator("input[name=expires_on]").count():
        await section.locator("input[name=expires_on]").fill(str(today + timedelta(days=3650)))
    await section.get_by_role("button").click()
    form = page.locator("#s3-upload")
    # The file goes to the object store, not to the app, with the presigned policy's fields.
    assert (await form.get_attribute("action") or "").startswith(s3_endpoint)
    assert await form.locator("input[name=success_action_redirect]").count() == 1
    await shots.take(page, f"upload-{kind}")
    await page.get_by_label("File").set_input_files(
        {"name": f"{kind}.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    await page.get_by_role("button", name="Upload", exact=True).click()
    await expect(page.get_by_role("status")).to_have_text(f"{kind} uploaded ({len(PDF):,} bytes)")
    await expect(section.locator(".badge")).to_have_text("pending verification")


async def sign_agreement(page: Page, shots: Screenshots, kind: str) -> None:
    await page.get_by_role("link", name=f"Read and sign: {kind.replace('_', ' ')}").click()
    agreement = current_agreement(kind)
    await expect(page.get_by_text(agreement.sha256)).to_be_visible()
    await shots.take(page, f"agreement-{kind}")
    await page.get_by_label("Your full name").fill("Ada Example")
    await page.get_by_label("Your title in the company").fill("Managing director")
    await page.get_by_role("button", name=f"Sign version {agreement.version}").click()
    await expect(page.get_by_role("status")).to_have_text(
        f"{kind} version {agreement.version} signed"
    )
    await expect(page.locator(f"#req-{kind} .badge")).to_have_text("satisfied")


async def test_applicant_journey_in_the_browser(site: Site, browser: Browser) -> None:
    shots = Screenshots("applicant")
    context, page = await new_page(browser, site, PHONE)
    app_id = await start_application(page, shots)
    cookie = next(c for c in await context.cookies() if c["name"] == "sellerflow_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    await confirm_email(page, shots, site, app_id)

    category = SellerCategory.refurbishing_factory
    for kind in required_documents(site.policy, category, "DE"):
        await upload_document(page, shots, kind, str(site.settings.s3_endpoint_url))
    await shots.take(page, "documents-uploaded")
    for kind in required_agreements(site.policy, "DE"):
        await sign_agreement(page, shots, kind)
    await shots.take(page, "agreements-signed")

    await page.get_by_role("button", name="Submit application").click()
    await expect(page.get_by_role("status")).to_have_text("Application submitted: stage submitted")
    await shots.take(page, "submitted")
    assert page.url.endswith(f"/apply/{app_id}")

    # Another browser has no session for this application: it is not shown.
    stranger, other = await new_page(browser, site, PHONE)
    response = await other.goto(f"/apply/{app_id}")
    assert response is not None
    assert response.status == 404
    await shots.take(other, "stranger-not-found")
    await stranger.close()
    await context.close()


async def test_forms_without_the_session_csrf_token_are_refused(site: Site) -> None:
    start = await site.http.get("/apply")
    assert start.status_code == 200
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', start.text)
    assert token is not None
    form = {"legal_name": "Forged Ltd", "country": "DE"}
    missing = await site.http.post("/apply", data=form)
    assert missing.status_code == 403
    assert "did not come from this site" in missing.text
    wrong = await site.http.post("/apply", data={**form, "csrf_token": "0" * 64})
    assert wrong.status_code == 403
    # With the session's token, the same form reaches validation (422, readable, no trace).
    checked = await site.http.post("/apply", data={**form, "csrf_token": token.group(1)})
    assert checked.status_code == 422
    assert "Please check the form" in checked.text
    assert "Traceback" not in checked.text
