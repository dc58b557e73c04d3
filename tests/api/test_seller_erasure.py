"""A departed seller's erasure (GDPR art. 17): ops ask for it once the seller has left, the daily
retention run carries it out as for an ended application, and the seller's own sign-in goes
with it (its e-mail address erased, its tokens revoked)."""

import uuid
from datetime import UTC, datetime

from sqlmodel import Session, select
from temporalio.testing import ActivityEnvironment

from activities.retention import RetentionActivities
from sellerflow.models import Application, AuditLog, Seller, SellerAccount
from sellerflow.payloads import RetentionInput
from sellerflow.storage import ObjectStore
from tests.conftest import Stack
from tests.journey import SELLER_PASSWORD, approved_seller, seller_token, staff_token
from tests.support.waiting import eventually


async def test_a_departed_seller_is_erased_by_the_next_retention_run(stack: Stack) -> None:
    http = stack.http
    app_id, seller_id, _ = await approved_seller(
        http, stack.policy, contact_email="gone@example.com"
    )
    seller_auth = await seller_token(http, app_id)
    ops = await staff_token(http, "ops1")
    too_early = await http.post(f"/v1/sellers/{seller_id}/erasure", headers=ops)
    assert too_early.status_code == 409, too_early.text
    assert "has left" in too_early.json()["detail"]
    assert (
        await http.post(f"/v1/sellers/{seller_id}/erasure", headers=seller_auth)
    ).status_code == 403

    gone = await http.post(
        f"/v1/sellers/{seller_id}/actions",
        headers=ops,
        json={"action": "offboard", "reason": "stolen goods", "fraud": True},
    )
    assert gone.status_code == 200, gone.text

    async def offboarded() -> bool:
        seen = await http.get(f"/v1/sellers/{seller_id}", headers=ops)
        return seen.json()["status"] == "offboarded"

    await eventually(offboarded, why="the seller was never offboarded")
    asked = await http.post(f"/v1/sellers/{seller_id}/erasure", headers=ops)
    assert asked.status_code == 202, asked.text
    again = await http.post(f"/v1/sellers/{seller_id}/erasure", headers=ops)
    assert again.json() == asked.json(), "the first request stands"

    store = ObjectStore(stack.settings)
    prefix = f"applications/{app_id}/"
    assert store.keys_under(prefix), "the documents and signatures are stored"
    retention = RetentionActivities(stack.engine, stack.policy, store)
    done = ActivityEnvironment().run(retention.erase_due, RetentionInput(at=datetime.now(UTC)))
    assert done.erased == 1
    assert store.keys_under(prefix) == []

    with Session(stack.engine) as session:
        app = session.get(Application, uuid.UUID(app_id))
        assert app is not None
        assert (app.contact_email, app.contact_name) == ("", "")
        assert app.personal_data_erased_at is not None
        seller = session.exec(select(Seller).where(Seller.application_id == app.id)).one()
        account = session.exec(
            select(SellerAccount).where(SellerAccount.seller_id == seller.id)
        ).one()
        assert "gone@example.com" not in account.email
        assert account.password_hash is None
        entry = session.exec(
            select(AuditLog).where(
                AuditLog.action == "personal_data_erased", AuditLog.subject_id == app_id
            )
        ).one()
        assert "erasure asked by ops1" in entry.reason
        assert "gone@example.com" not in (entry.before or "")
    # The seller's sign-in is gone: its token is revoked, its e-mail and password no longer work.
    assert (await http.get(f"/v1/sellers/{seller_id}", headers=seller_auth)).status_code == 401
    signed_in = await http.post(
        "/v1/auth/token", data={"username": "gone@example.com", "password": SELLER_PASSWORD}
    )
    assert signed_in.status_code == 401, signed_in.text
    # Done once: the next run has nothing of it left.
    later = ActivityEnvironment().run(retention.erase_due, RetentionInput(at=datetime.now(UTC)))
    assert later.erased == 0
