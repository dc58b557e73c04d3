"""Rollouts over HTTP, run by the worker: refused without approval or with too short a notice,
and when accepted every seller is told what changes for it and when."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select
from temporalio.contrib.pydantic import pydantic_data_converter

from activities.rollout import RolloutActivities
from sellerflow.models import Application, Notification, PolicyRollout, PolicyVersion
from sellerflow.onboarding_start import onboarding_workflow_id
from sellerflow.payloads import OnboardingInput
from sellerflow.policy.model import Policy
from sellerflow.rollout_payloads import ActivateVersionInput
from sellerflow.users import ensure_user
from tests.conftest import Stack
from tests.db.test_simulation import stricter
from tests.journey import DEV_PASSWORD, create_application, staff_token
from tests.support.builders import ORDER_TABLE, application_row, order_row, seller_row
from tests.support.waiting import eventually


def seller_shipping_late(engine: sa.Engine, policy: Policy, name: str, late: int) -> uuid.UUID:
    """A seller with its application and 20 orders shipped this week, `late` of them late."""
    now = datetime.now(UTC)
    with Session(engine) as session:
        app = application_row(policy.version, legal_name=name)
        seller = seller_row(app, status="active", policy_version=policy.version)
        app.seller_id = seller.id
        session.add_all([app, seller])
        session.commit()
        seller_id = seller.id
    placed = now - timedelta(days=3)
    rows = [
        order_row(
            seller_id,
            placed,
            ship_by=placed + timedelta(days=1),
            shipped_at=placed + timedelta(days=2 if number < late else 0),
        )
        for number in range(20)
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(ORDER_TABLE), rows)
    return seller_id


async def approved_draft(stack: Stack, version: str) -> dict[str, str]:
    """The stricter rules proposed by ops1 and approved by ops2; ops1's headers."""
    ensure_user(stack.engine, "ops2", ["ops"], DEV_PASSWORD)
    ops1, ops2 = await staff_token(stack.http, "ops1"), await staff_token(stack.http, "ops2")
    rules = {**stricter(stack.policy).model_dump(mode="json"), "version": version}
    created = await stack.http.post("/v1/policies", json={"rules": rules}, headers=ops1)
    assert created.status_code == 201, created.text
    approved = await stack.http.post(f"/v1/policies/{version}/approve", headers=ops2)
    assert approved.status_code == 200, approved.text
    return ops1


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def test_a_rollout_is_refused_unknown_unapproved_or_too_soon(stack: Stack) -> None:
    ops = await staff_token(stack.http, "ops1")
    unknown = await stack.http.post(
        "/v1/policies/no-such-version/rollout", json={"effective_at": in_days(20)}, headers=ops
    )
    assert unknown.status_code == 404, unknown.text
    rules = {**stricter(stack.policy).model_dump(mode="json"), "version": "unapproved-1"}
    await stack.http.post("/v1/policies", json={"rules": rules}, headers=ops)
    unapproved = await stack.http.post(
        "/v1/policies/unapproved-1/rollout", json={"effective_at": in_days(20)}, headers=ops
    )
    assert unapproved.status_code == 409, unapproved.text
    assert "not approved" in unapproved.json()["detail"]
    active = await stack.http.post(
        f"/v1/policies/{stack.policy.version}/rollout",
        json={"effective_at": in_days(20)},
        headers=ops,
    )
    assert active.status_code == 409, active.text

    await approved_draft(stack, "stricter-soon")
    soon = await stack.http.post(
        "/v1/policies/stricter-soon/rollout", json={"effective_at": in_days(14)}, headers=ops
    )

    assert soon.status_code == 422, soon.text
    assert soon.json()["error"] == "NoticeTooShort"
    assert "15 days" in soon.json()["detail"]
    listed = (await stack.http.get("/v1/policies/stricter-soon", headers=ops)).json()
    assert listed["status"] == "draft"  # nothing scheduled
    with Session(stack.engine) as session:
        assert session.get(PolicyRollout, "stricter-soon") is None


async def test_an_accepted_rollout_tells_every_seller_what_changes_for_it(stack: Stack) -> None:
    warned_later = seller_shipping_late(stack.engine, stack.policy, "Late Refurb", late=1)
    unchanged = seller_shipping_late(stack.engine, stack.policy, "Prompt Refurb", late=0)
    ops = await approved_draft(stack, "stricter-rollout")
    effective_at = datetime.now(UTC) + timedelta(days=16)

    accepted = await stack.http.post(
        "/v1/policies/stricter-rollout/rollout",
        json={"effective_at": effective_at.isoformat()},
        headers=ops,
    )

    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert (body["version"], body["replaces"]) == ("stricter-rollout", stack.policy.version)
    assert (body["state"], body["requested_by"]) == ("scheduled", "ops1")
    assert datetime.fromisoformat(body["effective_at"]) == effective_at
    version = (await stack.http.get("/v1/policies/stricter-rollout", headers=ops)).json()
    assert version["status"] == "scheduled"

    async def told() -> dict[uuid.UUID, Notification] | None:
        with Session(stack.engine) as session:
            rows = session.exec(
                select(Notification).where(col(Notification.template) == "policy_change")
            ).all()
        return {row.seller_id: row for row in rows if row.seller_id} if len(rows) == 2 else None

    notices = await eventually(told, why="the sellers were not told of the change")
    late = notices[warned_later].body_text
    assert effective_at.strftime("%Y-%m-%d %H:%M UTC") in late
    assert "Under the new rules your late-shipment rate of 5 % would be a warning" in late
    assert "(today: good)" in late
    prompt = notices[unchanged].body_text
    assert "your standing would not change" in prompt
    assert "late-shipment" not in prompt
    progress: dict[str, Any] = (
        await stack.http.get("/v1/policies/stricter-rollout/rollout", headers=ops)
    ).json()
    assert progress["sellers_notified"] in (0, 2)  # the count is written after the notices

    seller = (await stack.http.get(f"/v1/sellers/{warned_later}", headers=ops)).json()
    assert seller["policy_version"] == stack.policy.version  # until the switch

    again = await stack.http.post(
        "/v1/policies/stricter-rollout/rollout",
        json={"effective_at": effective_at.isoformat()},
        headers=ops,
    )
    assert again.status_code == 409, again.text
    with Session(stack.engine) as session:
        row = session.get(PolicyVersion, "stricter-rollout")
        assert row is not None
        assert row.effective_at == effective_at


async def test_after_the_switch_new_applications_take_the_version_in_force(stack: Stack) -> None:
    in_flight, _ = await create_application(stack.http, confirm_email=False)
    ops = await approved_draft(stack, "stricter-in-force")
    scheduled = await stack.http.post(
        "/v1/policies/stricter-in-force/rollout",
        json={"effective_at": in_days(16)},
        headers=ops,
    )
    assert scheduled.status_code == 202, scheduled.text
    # The switch's first step, as the rollout takes it at effective_at.
    RolloutActivities(stack.engine).activate_version(
        ActivateVersionInput(version="stricter-in-force", at=datetime.now(UTC))
    )

    new, _ = await create_application(stack.http, confirm_email=False)

    listed = (await stack.http.get("/v1/policies", headers=ops)).json()["data"]
    ops_view = {v["version"]: v for v in listed}
    assert ops_view["stricter-in-force"]["status"] == "active"
    assert ops_view[stack.policy.version]["status"] == "retired"
    with Session(stack.engine) as session:
        recorded = {
            app_id: session.get(Application, uuid.UUID(app_id)).policy_version  # type: ignore[union-attr]
            for app_id in (in_flight, new)
        }
    assert recorded == {in_flight: stack.policy.version, new: "stricter-in-force"}
    handle = stack.temporal.get_workflow_handle(onboarding_workflow_id(uuid.UUID(new)))
    first = (await handle.fetch_history()).events[0]
    [started] = pydantic_data_converter.payload_converter.from_payloads(
        list(first.workflow_execution_started_event_attributes.input.payloads), [OnboardingInput]
    )
    assert started.policy.version == "stricter-in-force"  # its workflow runs the new rules
