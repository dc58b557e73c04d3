"""Renewing a document on file through the API, on real servers: the seller workflow asks for it
(here at once: the policy asks a year ahead), the seller uploads a new file straight to S3, the
onboarding team reviews it in a `document_review` task, and the renewal is recorded for the
portal; another seller reaches none of it."""

import html
import re
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from api.pages.session import SESSION_COOKIE, csrf_for
from sellerflow.policy.model import FILES
from tests.conftest import Stack, make_settings, running_stack
from tests.journey import (
    PDF,
    approved_seller,
    decide,
    post_to_s3,
    seller_token,
    staff_token,
    wait_for_task,
)
from tests.mailbox import Mailbox
from tests.support.waiting import eventually

EXTRACT = "company_registration_extract"


def asking_a_year_ahead(tmp_path: Path) -> str:
    """The default policy, asking for renewals 400 days before they are due."""
    rules = yaml.safe_load((FILES / "default.yaml").read_text())
    rules["version"] += "-renewals-test"
    rules["renewals"]["ask_before"], rules["renewals"]["remind_before"] = "400 days", "7 days"
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(rules))
    return str(path)


@pytest.fixture
async def renewing(
    tmp_path: Path, temporal_address: str, s3_endpoint: str, mailbox: Mailbox
) -> Stack:
    settings = make_settings(
        tmp_path,
        temporal_address,
        s3_endpoint,
        smtp_url=mailbox.url,
        sellerflow_policy=asking_a_year_ahead(tmp_path),
    )
    async with running_stack(settings, mailbox) as stack:
        yield stack


async def test_a_renewal_asked_uploaded_reviewed_and_recorded(renewing: Stack) -> None:
    http, policy = renewing.http, renewing.policy
    app_id, seller_id, _ = await approved_seller(http, policy)
    seller = await seller_token(http, app_id)
    path = f"/v1/sellers/{seller_id}/renewals"

    async def asked() -> list[dict] | None:
        found = (await http.get(path, headers=seller)).json()
        return found if any(r["kind"] == EXTRACT for r in found) else None

    [renewal] = [r for r in await eventually(asked, why="no renewal asked") if r["kind"] == EXTRACT]
    assert renewal["status"] == "requested"
    # The extract was issued 10 days ago and is valid for a year from its issue.
    assert renewal["valid_until"].startswith((date.today() + timedelta(days=355)).isoformat())

    issued = date.today() - timedelta(days=1)
    body = {
        "filename": "extract.pdf",
        "content_type": "application/pdf",
        "size_bytes": len(PDF),
        "issued_on": issued.isoformat(),
    }
    stale = {**body, "issued_on": (date.today() - timedelta(days=400)).isoformat()}
    too_old = await http.post(f"{path}/{EXTRACT}/documents", headers=seller, json=stale)
    assert too_old.status_code == 422, too_old.text
    assert too_old.json()["error"] == "InvalidRequest"
    unasked = await http.post(f"{path}/waste_permit/documents", headers=seller, json=body)
    assert unasked.status_code == 409, unasked.text

    declared = await http.post(f"{path}/{EXTRACT}/documents", headers=seller, json=body)
    assert declared.status_code == 201, declared.text
    document_id = declared.json()["document_id"]
    stored = await post_to_s3(declared.json()["upload"], PDF, "application/pdf")
    assert stored.status_code in (200, 201, 204), stored.text

    # Another seller reaches neither the renewals nor the file.
    other_app, other_id, _ = await approved_seller(http, policy, legal_name="Other Refurb BV")
    other = await seller_token(http, other_app)
    assert (await http.get(path, headers=other)).status_code == 404
    completion = f"{path}/documents/{document_id}/complete"
    assert (await http.post(completion, headers=other)).status_code == 404
    theirs = f"/v1/sellers/{other_id}/renewals/documents/{document_id}/complete"
    assert (await http.post(theirs, headers=other)).status_code == 404

    done = await http.post(completion, headers=seller)
    assert done.status_code == 202, done.text
    assert done.json()["status"] == "trial"
    again = await http.post(completion, headers=seller)
    assert again.status_code == 202, again.text  # the same file once more: one review

    onboarding = await staff_token(http, "onboarding1")
    review = await wait_for_task(http, onboarding, "document_review", subject=seller_id)
    assert review["note"] == document_id
    lab = await staff_token(http, "lab1")
    claimed = await http.post(f"/v1/tasks/{review['id']}/claim", headers=lab)
    assert claimed.status_code == 403, claimed.text
    assert (await decide(http, onboarding, review["id"], "approve")).status_code == 200

    async def renewed() -> list[dict] | None:
        found = [r for r in (await http.get(path, headers=seller)).json() if r["kind"] == EXTRACT]
        return found if found and found[0]["round"] == 1 else None

    [current] = await eventually(renewed, why="the renewal was not recorded")
    # The next round follows the new extract's dates (asked at once again: 400 days ahead).
    assert current["valid_until"].startswith((issued + timedelta(days=365)).isoformat())
    documents = await http.get(f"/v1/applications/{app_id}/documents", headers=onboarding)
    statuses = {d["document_id"]: d["status"] for d in documents.json()["data"]}
    assert statuses[document_id] == "accepted"

    # The next round on the portal: the page's form, S3's presigned form, back to be checked.
    cookie = seller["Authorization"].removeprefix("Bearer ")
    http.cookies.set(SESSION_COOKIE, cookie)
    try:
        portal = await http.get("/seller")
        assert portal.status_code == 200, portal.text
        assert "Documents to renew" in portal.text
        assert f'id="renew-{EXTRACT}"' in portal.text
        csrf = csrf_for(renewing.settings.sellerflow_secret_key, cookie)
        form = {"csrf_token": csrf, "content_type": "application/pdf", "issued_on": str(issued)}
        upload_page = await http.post(f"/seller/renewals/{EXTRACT}", data=form)
        assert upload_page.status_code == 200, upload_page.text
        action = re.search(r'<form[^>]*action="([^"]+)"[^>]*id="s3-upload"', upload_page.text)
        assert action is not None, upload_page.text
        fields = dict(
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', upload_page.text)
        )
        fields.pop("csrf_token", None)
        stored = await post_to_s3(
            {
                "url": html.unescape(action.group(1)),
                "fields": {k: html.unescape(v) for k, v in fields.items()},
            },
            PDF,
            "application/pdf",
        )
        assert stored.status_code == 303, stored.text
        back = httpx.URL(stored.headers["location"])
        arrived = await http.get(back.path)
        assert arrived.status_code == 303, arrived.text
        shown = await http.get("/seller")
        assert "a reviewer checks the file you sent" in shown.text.lower()
    finally:
        http.cookies.clear()
    second = await wait_for_task(http, onboarding, "document_review", subject=seller_id)
    assert second["id"] != review["id"]
    staff_cookie = onboarding["Authorization"].removeprefix("Bearer ")
    http.cookies.set(SESSION_COOKIE, staff_cookie)
    try:
        card = await http.get(f"/staff/sellers/{seller_id}")
        assert card.status_code == 200, card.text
        assert 'id="renewals"' in card.text
        assert "under_review" in card.text or "under review" in card.text
        task_page = await http.get(f"/staff/tasks/{second['id']}")
        assert task_page.status_code == 200, task_page.text
        assert 'id="renewed-document"' in task_page.text
    finally:
        http.cookies.clear()
