"""An appeal is decided by someone other than the person who decided the restriction: ops1
suspends a seller by hand, so ops1 may not decide the seller's appeal; another ops member may."""

from sellerflow.users import ensure_user
from tests.conftest import Stack
from tests.journey import DEV_PASSWORD, approved_seller, decide, staff_token, suspend, wait_for_task

PLAN = {"root_cause": "a supplier batch", "actions": "recalled it", "prevention": "checks"}


async def test_ops_cannot_decide_the_appeal_against_their_own_suspension(stack: Stack) -> None:
    http = stack.http
    _, seller_id, seller_auth = await approved_seller(http, stack.policy)
    ensure_user(stack.engine, "ops2", ["ops"], DEV_PASSWORD)
    ops1, ops2 = await staff_token(http, "ops1"), await staff_token(http, "ops2")
    await suspend(http, seller_id, ops1)
    appeal = await http.post(f"/v1/sellers/{seller_id}/appeals", headers=seller_auth, json=PLAN)
    assert appeal.status_code == 201, appeal.text
    review = await wait_for_task(http, ops1, "appeal_review", subject=seller_id)

    own = await decide(http, ops1, review["id"], "reinstate", comment="fine by me")

    assert own.status_code == 409, own.text
    assert own.json()["error"] == "Conflict"
    assert "restriction" in own.json()["detail"]
    released = await http.post(f"/v1/tasks/{review['id']}/release", headers=ops1)
    assert released.status_code == 200, released.text
    other = await decide(http, ops2, review["id"], "reinstate", comment="plan accepted")
    assert other.status_code == 200, other.text
    assert other.json()["state"] == "trial"  # reinstated into the status it was suspended from
