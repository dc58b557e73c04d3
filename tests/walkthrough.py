"""The seller's whole life in a browser, against a running system (`SELLERFLOW_POLICY=demo make
run`): apply, approved by the onboarding team and the SSM, the account activated from the link
ops read on `/ops/outbox`, the trial with its mystery orders checked by the lab, graduation,
a limit from the seller's card, an appeal with an evidence file, the reinstatement by a person
other than the one who limited. Every page on the way is a screenshot.

    .venv/bin/python -m tests.walkthrough [--url http://127.0.0.1:8000] [--out .data/walkthrough]

Not part of the suite (it waits for the demo policy's real two-minute trial); the suite's
browser tests cover each page on their own servers. The demo's appeal window is a minute: the
appeal is filed seconds after the limit, on a machine that is not too loaded.
"""

import argparse
import asyncio
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright, expect

from sellerflow.config import get_settings
from sellerflow.policy.model import load_policy
from sellerflow.policy.requirements import required_agreements, required_documents
from sellerflow.vocabulary import SellerCategory
from tests.journey import APPLICATION, PDF
from tests.pages.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP
from tests.pages.test_applicant_pages import sign_agreement, upload_document

PASSWORD = "a long seller password"
# Its own names on every run, so it runs again on the same `.data`.
RUN = uuid.uuid4().hex[:6]
LEGAL_NAME = f"Walkthrough {RUN} Refurb GmbH"


class Shots:
    """Numbered full-page screenshots in `out`, in the order the pages were visited."""

    def __init__(self, out: Path) -> None:
        self.out, self.taken = out, 0
        out.mkdir(parents=True, exist_ok=True)

    async def take(self, page: Page, name: str) -> None:
        self.taken += 1
        path = self.out / f"{self.taken:02d}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        print(f"  {path}", flush=True)


async def until(check: Callable[[], Awaitable[bool]], why: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(why)
        await asyncio.sleep(2)


async def staff(browser: Browser, url: str, username: str, password: str) -> Page:
    context = await browser.new_context(base_url=url, viewport=DESKTOP)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    page = await context.new_page()
    await page.goto("/login?next=/staff")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("status")).to_have_text(f"Hello {username}")
    return page


async def mailed_link(ops: Page, template: str, path: str) -> str:
    """The newest link to `path` in a `template` mail of the walkthrough's applicant, read on
    the outbox page as a person without SMTP would."""
    found: list[str] = []

    async def listed() -> bool:
        await ops.goto("/ops/outbox")
        mails = ops.locator("article", has_text=template).filter(has_text=APPLICANT_EMAIL)
        if not await mails.count():
            return False
        body = await mails.first.locator("pre").text_content() or ""
        found[:] = re.findall(rf"https?://\S+{re.escape(path)}\S+", body)
        return bool(found)

    await until(listed, f"no {template} mail in the outbox")
    return found[0]


APPLICANT_EMAIL = f"walkthrough-{RUN}@refurb.example"


async def open_task(page: Page, kind: str, shots: Shots, name: str) -> None:
    link = page.get_by_role("row", name=re.compile(LEGAL_NAME)).get_by_role(
        "link", name=kind.replace("_", " ")
    )

    async def listed() -> bool:
        await page.goto("/staff")
        return await link.count() > 0

    await until(listed, f"no {kind} task in the inbox")
    await link.first.click()
    await page.get_by_role("button", name="Claim").click()
    await expect(page.get_by_role("status")).to_have_text("You hold this task now")
    await shots.take(page, name)


async def decide(page: Page, decision: str, comment: str = "") -> None:
    await page.get_by_label(decision, exact=True).check()
    for box in await page.locator("input[type=checkbox][name^='check:']").all():
        await box.check()
    for number in await page.locator("input[type=number][name^='check:']").all():
        await number.fill("95")
    if comment:
        await page.locator("#comment").fill(comment)
    overridden = page.get_by_label("An automated check's finding overridden")
    if decision == "approve" and await overridden.count() > 0:
        # Approving over a finding of the automated checks names it (check_overridden).
        checks = page.locator("#checks")
        findings = (await checks.inner_text()).lower() if await checks.count() else ""
        if "needs" in findings or "failed" in findings:
            await overridden.check()
    await page.get_by_role("button", name="Record decision").click()
    await expect(page.get_by_role("status")).to_contain_text(f"Decision recorded: {decision}")


async def walk(url: str, out: Path) -> None:
    settings = get_settings()
    policy = load_policy(settings.sellerflow_policy)
    password = settings.sellerflow_dev_password
    shots = Shots(out)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        context = await browser.new_context(base_url=url, viewport=DESKTOP)  # type: ignore[arg-type]
        context.set_default_timeout(20_000)
        applicant = await context.new_page()
        ops = await staff(browser, url, "ops1", password)

        print("1. apply", flush=True)
        await applicant.goto("/apply")
        await applicant.get_by_label("Legal name of the company").fill(LEGAL_NAME)
        await applicant.get_by_label("Kind of seller").select_option("refurbishing_factory")
        await applicant.get_by_label("Country").fill("DE")
        # A number the dev registers know (sellerflow/registries/data/registers.json), under
        # another name: the review shows the mismatch, and the reviewer approves over it.
        await applicant.get_by_label("Company registration number").fill("HRB 123456")
        await applicant.get_by_label("VAT number").fill(APPLICATION["vat_number"])
        await applicant.get_by_label("Contact person").fill("Ada Example")
        await applicant.get_by_label("Contact email").fill(APPLICANT_EMAIL)
        await applicant.get_by_label("smartphones").check()
        await applicant.get_by_role("button", name="Start application").click()
        await expect(applicant.get_by_role("status")).to_have_text("Application started")
        dashboard = applicant.url
        await applicant.goto(await mailed_link(ops, "application_received", "/confirm-email"))
        await applicant.get_by_role("button", name="Confirm my e-mail address").click()
        await applicant.goto(dashboard)
        category = SellerCategory.refurbishing_factory
        s3 = str(settings.s3_public_endpoint_url or settings.s3_endpoint_url)
        silent = _Silent()
        for kind in required_documents(policy, category, "DE"):
            await upload_document(applicant, silent, kind, s3)  # type: ignore[arg-type]
        for kind in required_agreements(policy, "DE"):
            await sign_agreement(applicant, silent, kind)  # type: ignore[arg-type]
        await shots.take(applicant, "application-complete")
        await applicant.get_by_role("button", name="Submit application").click()
        await expect(applicant.get_by_role("status")).to_contain_text("Application submitted")

        print("2. approved by onboarding1, signed off by ssm1", flush=True)
        reviewer = await staff(browser, url, "onboarding1", password)
        await open_task(reviewer, "onboarding_review", shots, "onboarding-review")
        await decide(reviewer, "approve")
        manager = await staff(browser, url, "ssm1", password)
        await open_task(manager, "ssm_signoff", shots, "ssm-signoff")
        await decide(manager, "approve")

        print("3. the account activated from the outbox", flush=True)
        await applicant.goto(await mailed_link(ops, "account_ready", "/seller/activate"))
        await shots.take(ops, "outbox")
        await applicant.get_by_label("New password").fill(PASSWORD)
        await applicant.get_by_label("The same password again").fill(PASSWORD)
        await applicant.get_by_role("button", name="Set password").click()
        await applicant.get_by_label("E-mail address").fill(APPLICANT_EMAIL)
        await applicant.get_by_label("Password").fill(PASSWORD)
        await applicant.get_by_role("button", name="Sign in").click()
        await expect(applicant.get_by_role("heading", name="Status: trial")).to_be_visible()
        await shots.take(applicant, "seller-dashboard-trial")

        print("4. the trial: mystery orders checked by lab1, then the trial's end", flush=True)
        lab = await staff(browser, url, "lab1", password)
        for number in range(policy.trial.mystery_orders):
            await open_task(lab, "mystery_order", shots, f"mystery-order-{number + 1}")
            await decide(lab, "passed", comment="as described, well packed")

        async def graduated() -> bool:
            await applicant.goto("/seller")
            if await applicant.get_by_role("heading", name="Status: active").count():
                return True
            review = manager.get_by_role("row", name=re.compile(LEGAL_NAME)).get_by_role(
                "link", name="trial review"
            )
            await manager.goto("/staff")
            if await review.count():  # borderline: the SSM decides
                await open_task(manager, "trial_review", shots, "trial-review")
                await decide(manager, "graduate")
            return False

        await until(graduated, "the seller never left its trial", timeout=420)
        await shots.take(applicant, "seller-dashboard-active")

        print("5. limited by ops1 from the seller's card", flush=True)
        await ops.goto("/staff/sellers")
        await ops.get_by_role("link", name=LEGAL_NAME).click()
        await ops.get_by_label("Action", exact=True).select_option("limit")
        await ops.get_by_label("Reason").fill("three buyers report batteries below the 80 % stated")
        await ops.get_by_role("button", name="Apply the action").click()
        await expect(ops.get_by_role("status")).to_contain_text("Action limit recorded")
        await shots.take(ops, "staff-card-limited")

        async def limited() -> bool:
            await applicant.goto("/seller")
            return await applicant.get_by_role("heading", name="Status: limited").count() > 0

        await until(limited, "the seller page never showed the limit")
        await shots.take(applicant, "seller-notice-limit")

        print("6. the appeal, with an evidence file", flush=True)
        await applicant.get_by_label("What the file shows").fill("battery test report")
        await applicant.get_by_role("button", name="Choose a file to upload").click()
        await applicant.get_by_label("File").set_input_files(
            {"name": "report.pdf", "mimeType": "application/pdf", "buffer": PDF}
        )
        await applicant.get_by_role("button", name="Upload", exact=True).click()
        await expect(applicant.get_by_role("status")).to_contain_text("uploaded")
        await applicant.get_by_label("What caused the problem").fill("a battery batch mislabelled")
        await applicant.get_by_label("What you have done about it").fill("retested every unit")
        await applicant.get_by_label("How you will keep it from happening again").fill(
            "a capacity test before each listing"
        )
        await shots.take(applicant, "seller-appeal-form")
        await applicant.get_by_role("button", name="File the appeal").click()
        await expect(applicant.get_by_role("status")).to_contain_text("Your appeal is received")

        print("7. reinstated by ssm1 (ops1 limited: four eyes)", flush=True)
        await open_task(manager, "appeal_review", shots, "appeal-review")
        await decide(manager, "reinstate", comment="the test report shows the batch is fine")

        async def reinstated() -> bool:
            await applicant.goto("/seller")
            return await applicant.get_by_role("heading", name="Status: active").count() > 0

        await until(reinstated, "the seller page never showed the reinstatement")
        await shots.take(applicant, "seller-dashboard-reinstated")
        await manager.goto("/staff/sellers?ssm=me")
        await shots.take(manager, "ssm-portfolio")
        await browser.close()


class _Silent:
    """The applicant pages' helpers take screenshots of every step; the walkthrough keeps one."""

    async def take(self, page: Page, name: str) -> None:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=Path(".data/walkthrough"))
    args = parser.parse_args()
    asyncio.run(walk(args.url, args.out))


if __name__ == "__main__":
    main()
