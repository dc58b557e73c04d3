"""Policy versions over HTTP: the built-in files seeded, drafts, the two-person approval, diffs."""

import copy
from typing import Any

import pytest_asyncio
from sqlmodel import Session

from sellerflow.models import PolicyVersion
from sellerflow.policy.model import load_policy
from sellerflow.users import ensure_user
from sellerflow.vocabulary import Stage
from tests.api.conftest import Api
from tests.journey import DEV_PASSWORD, staff_token
from tests.support.builders import application_row, seller_row

DEFAULT = load_policy("default")
DEMO = load_policy("demo")


def stricter_rules(version: str = "stricter-late-shipment-1") -> dict[str, Any]:
    rules = copy.deepcopy(DEFAULT.model_dump(mode="json"))
    rules["version"] = version
    rules["kpis"]["late_shipment_rate"]["warn"] = 0.05
    return rules


@pytest_asyncio.fixture
async def api(api_on_either_database: Api) -> Api:
    return api_on_either_database


async def test_the_built_in_files_are_versions_and_the_configured_one_is_active(api: Api) -> None:
    ops = await staff_token(api.http, "ops1")
    page = (await api.http.get("/v1/policies", headers=ops)).json()
    page_again = (await api.http.get("/v1/policies", headers=ops)).json()

    statuses = {v["version"]: v["status"] for v in page["data"]}
    assert statuses == {DEFAULT.version: "active", DEMO.version: "draft"}
    assert page_again["count"] == page["count"] == 2  # seeding twice adds nothing
    one = (await api.http.get(f"/v1/policies/{DEFAULT.version}", headers=ops)).json()
    assert one["rules"] == DEFAULT.model_dump(mode="json")
    assert one["proposed_by"] == one["approved_by"] == "built-in"


async def test_running_workflows_are_counted_per_version(api: Api) -> None:
    with Session(api.engine) as session:
        for stage in (Stage.submitted, Stage.onboarding_review, Stage.rejected):
            session.add(application_row(DEFAULT.version, stage=stage))
        handed = application_row(DEFAULT.version, stage=Stage.approved)
        session.add(handed)
        session.add(seller_row(handed))
        gone = application_row(DEFAULT.version, stage=Stage.approved)
        session.add(gone)
        session.add(seller_row(gone, status="offboarded"))
        session.add(application_row(DEMO.version, stage=Stage.draft))
        session.commit()
    ops = await staff_token(api.http, "ops1")

    default = (await api.http.get(f"/v1/policies/{DEFAULT.version}", headers=ops)).json()
    listed = (await api.http.get("/v1/policies", headers=ops)).json()

    assert default["running_workflows"] == {"onboarding": 2, "sellers": 1, "total": 3}
    demo = next(v for v in listed["data"] if v["version"] == DEMO.version)
    assert demo["running_workflows"] == {"onboarding": 1, "sellers": 0, "total": 1}


async def test_invalid_rules_are_refused_naming_each_field(api: Api) -> None:
    ops = await staff_token(api.http, "ops1")
    rules = stricter_rules()
    rules["kpis"]["refund_rate"]["window_days"] = -1
    rules["kpis"]["late_shipment_rate"]["warn"] = 0.5
    rules["kpis"]["unknown_rate"] = rules["kpis"]["refund_rate"]
    del rules["durations"]["appeal_sla"]

    answer = await api.http.post("/v1/policies", json={"rules": rules}, headers=ops)

    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["error"] == "InvalidPolicy"
    assert {f["path"] for f in body["detail"]["fields"]} == {
        "kpis.refund_rate.window_days",
        "kpis.late_shipment_rate.warn",
        "kpis.unknown_rate",
        "durations.appeal_sla",
    }
    listed = (await api.http.get("/v1/policies", headers=ops)).json()
    assert listed["count"] == 2


async def test_a_draft_is_approved_by_a_second_person_only(api: Api) -> None:
    ensure_user(api.engine, "ops2", ["ops"], DEV_PASSWORD)
    ops1, ops2 = await staff_token(api.http, "ops1"), await staff_token(api.http, "ops2")
    created = await api.http.post("/v1/policies", json={"rules": stricter_rules()}, headers=ops1)
    assert created.status_code == 201, created.text
    draft = created.json()
    assert (draft["status"], draft["proposed_by"], draft["approved_by"]) == ("draft", "ops1", None)
    url = f"/v1/policies/{draft['version']}/approve"

    own = await api.http.post(url, headers=ops1)
    assert own.status_code == 403, own.text
    assert own.json()["error"] == "Forbidden"
    second = await api.http.post(url, headers=ops2)
    assert second.status_code == 200, second.text
    assert second.json()["approved_by"] == "ops2"
    again = await api.http.post(url, headers=ops2)
    assert again.status_code == 409
    with Session(api.engine) as session:
        row = session.get(PolicyVersion, draft["version"])
        assert row is not None
        assert (row.proposed_by, row.approved_by) == ("ops1", "ops2")


async def test_a_known_version_is_not_proposed_again(api: Api) -> None:
    ops = await staff_token(api.http, "ops1")
    body = {"rules": stricter_rules(DEFAULT.version)}
    answer = await api.http.post("/v1/policies", json=body, headers=ops)
    assert answer.status_code == 409
    assert answer.json()["error"] == "Conflict"


async def test_the_diff_names_each_changed_field(api: Api) -> None:
    ops = await staff_token(api.http, "ops1")
    await api.http.post("/v1/policies", json={"rules": stricter_rules()}, headers=ops)

    answer = await api.http.get("/v1/policies/stricter-late-shipment-1/diff", headers=ops)
    against_demo = await api.http.get(
        f"/v1/policies/{DEMO.version}/diff", params={"against": DEFAULT.version}, headers=ops
    )

    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "from_version": DEFAULT.version,
        "to_version": "stricter-late-shipment-1",
        "changes": [
            {
                "path": "kpis.late_shipment_rate.warn",
                "kind": "changed",
                "before": 0.08,
                "after": 0.05,
            },
            {
                "path": "version",
                "kind": "changed",
                "before": DEFAULT.version,
                "after": "stricter-late-shipment-1",
            },
        ],
    }
    paths = {c["path"] for c in against_demo.json()["changes"]}
    assert "durations.trial" in paths


async def test_unknown_versions_are_404(api: Api) -> None:
    ops = await staff_token(api.http, "ops1")
    for url in ("/v1/policies/nope", "/v1/policies/nope/diff", "/v1/policies/a%20b"):
        answer = await api.http.get(url, headers=ops)
        assert answer.status_code == 404, (url, answer.text)
        assert answer.json()["error"] == "NotFound"
    unknown_against = await api.http.get(
        f"/v1/policies/{DEFAULT.version}/diff", params={"against": "nope"}, headers=ops
    )
    assert unknown_against.status_code == 404
