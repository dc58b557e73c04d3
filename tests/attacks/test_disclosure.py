"""Applicants and sellers never see staff usernames, internal comments or internal reason codes
(`suspected_fraud`): not in the API's answers, not on their pages, not in their mail. Staff keep
the full record."""

from typing import Any

import httpx

from sellerflow.vocabulary import NEUTRAL_REASON, REASON_CODES
from tests.conftest import Stack
from tests.journey import (
    approved_seller,
    complete_application,
    create_application,
    decide,
    staff_token,
    suspend,
    wait_for_stage,
    wait_for_task,
)
from tests.support.waiting import eventually

COMMENT = "same IBAN as the banned seller of March"
INTERNAL = ("onboarding1", "ops1", "suspected_fraud", REASON_CODES["suspected_fraud"], COMMENT)


async def mail_of(
    http: httpx.AsyncClient, ops: dict[str, str], template: str, **subject: str
) -> str:
    async def stored() -> str | None:
        listed = await http.get(
            "/v1/ops/notifications", headers=ops, params={"template": template, **subject}
        )
        data: list[dict[str, Any]] = listed.json()["data"]
        return data[0]["body_text"] if data else None

    return await eventually(stored, timeout=20, why=f"no {template} mail")


async def test_a_rejected_applicant_sees_public_reasons_only(stack: Stack) -> None:
    http = stack.http
    app_id, auth = await create_application(http)
    await complete_application(http, stack.policy, app_id, auth)
    assert (await http.post(f"/v1/applications/{app_id}/submit", headers=auth)).status_code == 200
    onboarding1 = await staff_token(http, "onboarding1")
    review = await wait_for_task(http, onboarding1, "onboarding_review", subject=app_id)
    reasons = ["suspected_fraud", "name_mismatch"]
    rejected = await decide(
        http, onboarding1, review["id"], "reject", reason_codes=reasons, comment=COMMENT
    )
    assert rejected.status_code == 200, rejected.text
    await wait_for_stage(http, auth, app_id, "rejected")

    shown = (await http.get(f"/v1/applications/{app_id}", headers=auth)).json()
    decision = next(d for d in shown["decisions"] if d["kind"] == "onboarding_review")
    assert decision["actor"] is None
    assert decision["comment"] is None
    assert decision["reason_codes"] == ["name_mismatch"]
    assert decision["reasons"] == [NEUTRAL_REASON, REASON_CODES["name_mismatch"]]
    http.cookies.set("sellerflow_session", auth["Authorization"].removeprefix("Bearer "))
    try:
        page = await http.get(f"/apply/{app_id}")
    finally:
        http.cookies.clear()
    assert page.status_code == 200
    ops = await staff_token(http, "ops1")
    mail = await mail_of(http, ops, "rejected", application_id=app_id)
    for text in (str(shown), page.text, mail):
        assert not [word for word in INTERNAL if word in text], text
    assert NEUTRAL_REASON in mail

    full = (await http.get(f"/v1/applications/{app_id}", headers=ops)).json()
    kept = next(d for d in full["decisions"] if d["kind"] == "onboarding_review")
    assert (kept["actor"], kept["comment"], kept["reason_codes"]) == (
        "onboarding1",
        COMMENT,
        reasons,
    )


async def test_a_suspended_seller_is_not_told_who_suspended_it(stack: Stack) -> None:
    http = stack.http
    _, seller_id, seller_auth = await approved_seller(http, stack.policy)
    ops1 = await staff_token(http, "ops1")
    await suspend(http, seller_id, ops1)

    seen = (await http.get(f"/v1/sellers/{seller_id}", headers=seller_auth)).json()
    action = next(a for a in seen["actions"] if a["action"] == "suspend")
    assert action["actor"] == "staff"
    assert action["reason"]["summary"] == "manual suspend: counterfeit report"
    [notice] = seen["notices"]
    assert notice["decision"] == "suspend"
    assert notice["actor"] is None
    assert notice["automated"] == {"detected": False, "decided": False}
    assert notice["facts"][0]["summary"] == "manual suspend: counterfeit report"
    assert notice["redress"]["appeal"] is True
    mail = await mail_of(http, ops1, "suspended", seller_id=seller_id)
    for text in (str(seen), mail):
        assert "ops1" not in text, text
    assert "counterfeit report" in mail
    assert "How to contest: before " in mail
    full = (await http.get(f"/v1/sellers/{seller_id}", headers=ops1)).json()
    assert any(a["actor"] == "ops1" for a in full["actions"])
    assert [n["actor"] for n in full["notices"]] == ["ops1"]
