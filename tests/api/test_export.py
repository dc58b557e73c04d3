"""`GET /v1/ops/exports/applications/{id}`: everything held about an applicant and the seller it
became, for an access request; ops only; file keys and audit hashes withheld."""

import uuid

from tests.api.test_routes import is_error
from tests.conftest import Stack
from tests.journey import APPLICATION, approved_seller, create_application, staff_token


async def test_ops_export_every_record_of_an_applicant_and_its_seller(stack: Stack) -> None:
    http = stack.http
    app_id, seller_id, _ = await approved_seller(http, stack.policy, legal_name="Exported GmbH")
    ops = await staff_token(http, "ops1")

    answer = await http.get(f"/v1/ops/exports/applications/{app_id}", headers=ops)

    assert answer.status_code == 200, answer.text
    export = answer.json()
    [application] = export["application"]
    assert (application["id"], application["legal_name"]) == (app_id, "Exported GmbH")
    assert application["contact_email"] == APPLICATION["contact_email"]
    [seller] = export["seller"]
    assert seller["id"] == seller_id
    # The seller's own account, without its credentials, and the seller's later records.
    [account] = export["seller_account"]
    assert account["email"] == APPLICATION["contact_email"]
    assert "password_hash" not in account
    assert "link_nonce" not in account
    for kind in ("notices", "appeals", "appeal_evidence", "offboarding_requests", "kpi_history"):
        assert kind in export
    stages = [c["stage"] for c in export["stage_changes"]]
    assert {"draft", "submitted", "onboarding_review", "ssm_signoff", "approved"} <= set(stages)
    kinds = {d["kind"] for d in export["documents"]}
    assert set(stack.policy.requirements.documents_for_all) <= kinds
    assert all("object_key" not in d and d["sha256"] for d in export["documents"])
    assert {s["kind"] for s in export["signatures"]} >= {"terms", "quality_charter"}
    assert {t["kind"] for t in export["tasks"]} >= {"onboarding_review", "ssm_signoff"}
    templates = {n["template"] for n in export["notifications"]}
    assert {"application_received", "account_ready"} <= templates
    assert all(n["body_text"] for n in export["notifications"])
    assert export["audit_log"], "the audit entries of the application and the seller"
    assert all("entry_hash" not in e and "prev_hash" not in e for e in export["audit_log"])
    assert {e["subject_id"] for e in export["audit_log"]} <= {app_id, seller_id}
    # The other applicant's records are not in it.
    other_id, _ = await create_application(http, legal_name="Someone Else BV")
    again = (await http.get(f"/v1/ops/exports/applications/{app_id}", headers=ops)).json()
    assert other_id not in answer.text + str(again)


async def test_only_ops_export_and_an_unknown_application_is_404(stack: Stack) -> None:
    http = stack.http
    app_id, applicant = await create_application(http)
    url = f"/v1/ops/exports/applications/{app_id}"
    assert is_error(await http.get(url), 401)
    assert is_error(await http.get(url, headers=applicant), 403)
    assert is_error(await http.get(url, headers=await staff_token(http, "onboarding1")), 403)
    ops = await staff_token(http, "ops1")
    assert is_error(
        await http.get(f"/v1/ops/exports/applications/{uuid.uuid4()}", headers=ops), 404
    )
    assert is_error(await http.get("/v1/ops/exports/applications/nope", headers=ops), 422)
