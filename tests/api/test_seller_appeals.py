"""Appeals against any restriction, through the API and the seller workflow: the appeal names the
notice it contests, neither the notice's author nor the one who confirmed the offboarding may
decide it, an upheld notice stands and takes no
second appeal, and a notice that is not the one in force is refused."""

import hashlib
import uuid

import httpx

from api.pages.session import SESSION_COOKIE
from sellerflow.users import ensure_user
from tests.conftest import Stack
from tests.journey import (
    DEV_PASSWORD,
    PDF,
    approved_seller,
    decide,
    post_to_s3,
    staff_token,
    wait_for_task,
)
from tests.support.waiting import eventually

PLAN = {"root_cause": "a supplier batch", "actions": "recalled it", "prevention": "checks"}


async def notices(http: httpx.AsyncClient, seller_id: str, auth: dict[str, str]) -> list[dict]:
    seen = await http.get(f"/v1/sellers/{seller_id}", headers=auth)
    assert seen.status_code == 200, seen.text
    return list(seen.json()["notices"])


async def offboard_with_confirmation(
    http: httpx.AsyncClient,
    seller_id: str,
    asks: dict[str, str],
    confirms: dict[str, str],
    reason: str,
) -> None:
    """An offboarding without fraud: asked by one ops member (202), confirmed by another."""
    asked = await http.post(
        f"/v1/sellers/{seller_id}/actions",
        headers=asks,
        json={"action": "offboard", "reason": reason},
    )
    assert asked.status_code == 202, asked.text
    request = asked.json()["offboarding_request"]
    assert (request["requested_by"], request["outcome"]) == ("ops1", None)
    path = f"/v1/sellers/{seller_id}/offboarding-requests/{request['id']}"
    own = await http.post(f"{path}/confirm", headers=asks)
    assert own.status_code == 409, own.text
    assert "another ops member" in own.json()["detail"]
    confirmed = await http.post(f"{path}/confirm", headers=confirms)
    assert confirmed.status_code == 200, confirmed.text
    again = await http.post(f"{path}/confirm", headers=confirms)
    assert again.status_code == 409, again.text


async def test_an_offboarding_notice_is_appealed_decided_by_another_and_upheld_once(
    stack: Stack,
) -> None:
    http = stack.http
    _, seller_id, seller_auth = await approved_seller(http, stack.policy)
    ensure_user(stack.engine, "ops2", ["ops"], DEV_PASSWORD)
    ensure_user(stack.engine, "ops3", ["ops"], DEV_PASSWORD)
    ops1, ops2 = await staff_token(http, "ops1"), await staff_token(http, "ops2")
    ops3 = await staff_token(http, "ops3")
    await offboard_with_confirmation(
        http, seller_id, ops1, ops2, "listings copied from another seller"
    )

    async def the_notice() -> dict | None:
        found = [n for n in await notices(http, seller_id, seller_auth) if n["decision"]]
        return found[0] if found and found[0]["decision"] == "offboard_notice" else None

    notice = await eventually(the_notice, why="no offboarding notice stored")
    assert notice["redress"]["appeal"] is True
    assert notice["redress"]["appeal_by"] is not None

    unknown = {**PLAN, "notice_id": str(uuid.uuid4())}
    missing = await http.post(f"/v1/sellers/{seller_id}/appeals", headers=seller_auth, json=unknown)
    assert missing.status_code == 404, missing.text

    body = {**PLAN, "notice_id": notice["id"]}
    filed = await http.post(f"/v1/sellers/{seller_id}/appeals", headers=seller_auth, json=body)
    assert filed.status_code == 201, filed.text
    appeal_id = filed.json()["appeal_id"]
    review = await wait_for_task(http, ops1, "appeal_review", subject=seller_id)

    own = await decide(http, ops1, review["id"], "uphold", comment="I gave the notice")
    assert own.status_code == 409, own.text
    assert "restriction you decided" in own.json()["detail"]
    assert (await http.post(f"/v1/tasks/{review['id']}/release", headers=ops1)).status_code == 200
    # ops2 confirmed the offboarding ops1 asked for: both decided it, a third person reviews.
    confirmer = await decide(http, ops2, review["id"], "uphold", comment="I confirmed it")
    assert confirmer.status_code == 409, confirmer.text
    assert "restriction you decided" in confirmer.json()["detail"]
    assert (await http.post(f"/v1/tasks/{review['id']}/release", headers=ops2)).status_code == 200
    upheld = await decide(http, ops3, review["id"], "uphold", comment="the copies are proven")
    assert upheld.status_code == 200, upheld.text

    state = await http.get(f"/v1/sellers/{seller_id}/appeals/{appeal_id}", headers=seller_auth)
    assert state.json()["status"] == "uphold"
    assert state.json()["reviewer_comment"] == "the copies are proven"
    again = await http.post(
        f"/v1/sellers/{seller_id}/appeals",
        headers=seller_auth,
        json={**body, "root_cause": "a second try"},
    )
    assert again.status_code == 409, again.text
    assert "appealed already" in again.json()["detail"]
    seller = (await http.get(f"/v1/sellers/{seller_id}", headers=ops3)).json()
    assert seller["status"] == "trial", "the notice stands: the seller works until it ends"


async def test_an_appeal_against_a_notice_no_longer_in_force_is_refused(stack: Stack) -> None:
    http = stack.http
    _, seller_id, seller_auth = await approved_seller(http, stack.policy)
    ensure_user(stack.engine, "ops2", ["ops"], DEV_PASSWORD)
    ops1, ops2 = await staff_token(http, "ops1"), await staff_token(http, "ops2")
    done = await http.post(
        f"/v1/sellers/{seller_id}/actions",
        headers=ops1,
        json={"action": "suspend", "reason": "counterfeit report"},
    )
    assert done.status_code == 200, done.text

    async def suspension_notice() -> list[dict] | None:
        return await notices(http, seller_id, seller_auth) or None

    (first,) = await eventually(suspension_notice, why="the suspension's notice was not stored")
    retried = {**seller_auth, "Idempotency-Key": "appeal-first-try"}
    against_suspension = {**PLAN, "notice_id": first["id"]}
    filed_first = await http.post(
        f"/v1/sellers/{seller_id}/appeals", headers=retried, json=against_suspension
    )
    assert filed_first.status_code == 201, filed_first.text
    await offboard_with_confirmation(http, seller_id, ops1, ops2, "counterfeit report")

    async def both() -> list[dict] | None:
        found = await notices(http, seller_id, seller_auth)
        return found if len(found) == 2 else None

    newest, suspension = await eventually(both, why="the two notices were not stored")
    assert (newest["decision"], suspension["decision"]) == ("offboard_notice", "suspend")
    stale = {**PLAN, "notice_id": suspension["id"]}
    refused = await http.post(f"/v1/sellers/{seller_id}/appeals", headers=seller_auth, json=stale)
    assert refused.status_code == 409, refused.text
    assert newest["id"] in refused.json()["detail"]
    # The first appeal sent again (its answer was lost) is that appeal, not a conflict with
    # the notice that came after it.
    again = await http.post(
        f"/v1/sellers/{seller_id}/appeals", headers=retried, json=against_suspension
    )
    assert again.status_code == 201, again.text
    assert again.json()["appeal_id"] == filed_first.json()["appeal_id"]
    # Without a notice named, the appeal is against the newest one: the notice in force.
    filed = await http.post(f"/v1/sellers/{seller_id}/appeals", headers=seller_auth, json=PLAN)
    assert filed.status_code == 201, filed.text


async def evidence_file(
    http: httpx.AsyncClient, seller_id: str, auth: dict[str, str], data: bytes
) -> httpx.Response:
    """Declare a PDF, post its bytes to S3 as a browser does, then complete it."""
    declared = await http.post(
        f"/v1/sellers/{seller_id}/evidence",
        headers=auth,
        json={"filename": "recall.pdf", "content_type": "application/pdf", "size_bytes": len(data)},
    )
    assert declared.status_code == 201, declared.text
    stored = await post_to_s3(declared.json()["upload"], data, "application/pdf", "recall.pdf")
    assert stored.status_code in (200, 201, 204), stored.text
    evidence_id = declared.json()["evidence_id"]
    return await http.post(f"/v1/sellers/{seller_id}/evidence/{evidence_id}/complete", headers=auth)


async def test_evidence_files_go_to_s3_and_with_one_appeal_to_its_reviewers(stack: Stack) -> None:
    http = stack.http
    _, seller_id, seller_auth = await approved_seller(http, stack.policy)
    ops1, lab1 = await staff_token(http, "ops1"), await staff_token(http, "lab1")
    done = await http.post(
        f"/v1/sellers/{seller_id}/actions",
        headers=ops1,
        json={"action": "suspend", "reason": "counterfeit report"},
    )
    assert done.status_code == 200, done.text

    fake = await evidence_file(http, seller_id, seller_auth, b"<html>not a pdf</html>")
    assert fake.status_code == 422, fake.text
    assert "evidence_refused" in fake.json()["detail"]
    good = await evidence_file(http, seller_id, seller_auth, PDF)
    assert good.status_code == 200, good.text
    evidence_id = good.json()["id"]
    assert good.json()["status"] == "uploaded"
    assert good.json()["sha256"] == hashlib.sha256(PDF).hexdigest()

    unknown = {**PLAN, "evidence": [str(uuid.uuid4())]}
    refused = await http.post(f"/v1/sellers/{seller_id}/appeals", headers=seller_auth, json=unknown)
    assert refused.status_code == 422, refused.text
    filed = await http.post(
        f"/v1/sellers/{seller_id}/appeals",
        headers=seller_auth,
        json={**PLAN, "evidence": [evidence_id]},
    )
    assert filed.status_code == 201, filed.text
    appeal_id = filed.json()["appeal_id"]
    seen = await http.get(f"/v1/sellers/{seller_id}/appeals/{appeal_id}", headers=ops1)
    assert [e["id"] for e in seen.json()["evidence"]] == [evidence_id]

    download = f"/v1/sellers/{seller_id}/evidence/{evidence_id}/download"
    assert (await http.get(download, headers=lab1)).status_code == 403
    link = await http.get(download, headers=ops1)
    assert link.status_code == 307, link.text
    async with httpx.AsyncClient() as s3:
        fetched = await s3.get(link.headers["location"])
    assert fetched.content == PDF
    assert fetched.headers["content-disposition"].startswith("attachment")

    # The same on the seller's card, for a signed-in reviewer.
    http.cookies.set(SESSION_COOKIE, ops1["Authorization"].removeprefix("Bearer "))
    try:
        card = await http.get(f"/staff/sellers/{seller_id}")
        page_link = f"/staff/sellers/{seller_id}/evidence/{evidence_id}"
        assert f'<a href="{page_link}" download>recall.pdf</a>' in card.text
        assert (await http.get(page_link)).status_code == 307
        http.cookies.set(SESSION_COOKIE, lab1["Authorization"].removeprefix("Bearer "))
        assert (await http.get(page_link)).status_code == 403
    finally:
        http.cookies.clear()

    withdrawn = await http.post(
        f"/v1/sellers/{seller_id}/appeals/{appeal_id}/withdraw", headers=seller_auth
    )
    assert withdrawn.status_code == 200, withdrawn.text
    # Withdrawn, the appeal gives its files back: the next one sends them, and takes them.
    back = await http.get(f"/v1/sellers/{seller_id}/appeals/{appeal_id}", headers=seller_auth)
    assert back.json()["evidence"] == []
    reused = await http.post(
        f"/v1/sellers/{seller_id}/appeals",
        headers=seller_auth,
        json={**PLAN, "root_cause": "again", "evidence": [evidence_id]},
    )
    assert reused.status_code == 201, reused.text
    twice = await http.post(
        f"/v1/sellers/{seller_id}/appeals",
        headers=seller_auth,
        json={**PLAN, "root_cause": "a third", "evidence": [evidence_id]},
    )
    assert twice.status_code == 422, twice.text
    assert "belongs to another appeal" in twice.json()["detail"]
