"""Appeals against any restriction, through the API and the seller workflow: the appeal names the
notice it contests, the notice's author may not decide it, an upheld notice stands and takes no
second appeal, and a notice that is not the one in force is refused."""

import uuid

import httpx

from sellerflow.users import ensure_user
from tests.conftest import Stack
from tests.journey import DEV_PASSWORD, approved_seller, decide, staff_token, wait_for_task
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
    ops1, ops2 = await staff_token(http, "ops1"), await staff_token(http, "ops2")
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
    # ops2 confirmed the offboarding ops1 asked for; ops1's name is on the notice.
    upheld = await decide(http, ops2, review["id"], "uphold", comment="the copies are proven")
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
    seller = (await http.get(f"/v1/sellers/{seller_id}", headers=ops2)).json()
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
    # Without a notice named, the appeal is against the newest one: the notice in force.
    filed = await http.post(f"/v1/sellers/{seller_id}/appeals", headers=seller_auth, json=PLAN)
    assert filed.status_code == 201, filed.text
