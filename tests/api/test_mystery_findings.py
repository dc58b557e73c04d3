"""The seller reads its mystery-order findings: the outcome, what to fix in the charter's words,
and for a blocker the date by which a follow-up order checks the fix."""

import re
import uuid
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from api.pages.session import SESSION_COOKIE
from sellerflow.models import Task
from sellerflow.policy.model import add_duration, load_policy
from tests.api.conftest import Api
from tests.journey import bearer
from tests.policy.sellers import PASSING_CHECKLIST
from tests.support.builders import add_seller_with_account, seller_bearer_token

DECIDED = datetime(2026, 6, 1, 12, tzinfo=UTC)


def lab_decision(seller_id: uuid.UUID, decision: str, days: int, **checklist: object) -> Task:
    return Task(
        id=uuid.uuid4(),
        kind="mystery_order",
        workflow_id=f"seller-{seller_id}",
        seller_id=seller_id,
        role="lab",
        due_at=DECIDED,
        status="completed",
        decision=decision,
        completed_at=DECIDED + timedelta(days=days),
        checklist={**PASSING_CHECKLIST, **checklist},
    )


async def test_the_seller_reads_its_findings_and_what_to_fix_by_when(
    api_on_either_database: Api,
) -> None:
    api = api_on_either_database
    with Session(api.engine) as session:
        seller_id, account_id = add_seller_with_account(session, uuid.uuid4(), "lab@example.com")
        session.add_all(
            [
                lab_decision(seller_id, "passed", 0),
                lab_decision(seller_id, "blocker", 5, battery_health_percent=60.0),
            ]
        )
        session.commit()
    token = seller_bearer_token(api.settings.sellerflow_secret_key, seller_id, account_id)
    seen = await api.http.get(f"/v1/sellers/{seller_id}", headers=bearer(token))
    assert seen.status_code == 200, seen.text
    blocker, passed = seen.json()["mystery_orders"]
    assert blocker["outcome"] == "blocker"
    assert blocker["to_fix"] == [
        "ship batteries with at least 80 % of their design capacity (this one had 60 %)"
    ]
    fix_by = add_duration(DECIDED + timedelta(days=5), load_policy("default").durations.blocker_fix)
    assert datetime.fromisoformat(blocker["fix_by"]) == fix_by
    assert (passed["outcome"], passed["to_fix"], passed["fix_by"]) == ("passed", [], None)
    # The same on the seller's page.
    api.http.cookies.set(SESSION_COOKIE, token)
    try:
        page = await api.http.get("/seller")
    finally:
        api.http.cookies.clear()
    assert page.status_code == 200, page.text
    table = re.search(r'<table id="mystery-orders".*?</table>', page.text, re.S)
    assert table is not None
    assert "this one had 60 %" in table[0]
    assert "Fix by" in table[0]
