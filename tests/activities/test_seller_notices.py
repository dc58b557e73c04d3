"""Statements of reasons: every restriction stores one with the status change and its e-mail,
once however often retried, and the e-mail gives the same facts, ground and redress."""

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select
from temporalio.testing import ActivityEnvironment

from activities.notifications import NotificationActivities
from activities.sellers import SellerActivities
from sellerflow import statements
from sellerflow.config import Settings
from sellerflow.db import table_of
from sellerflow.models import Notification, SellerAction, SellerNotice
from sellerflow.payloads import ApplySellerStatusInput, NotifyInput
from sellerflow.policy.model import Capabilities, Policy
from sellerflow.policy.notices import GROUNDS
from sellerflow.policy.seller_state import NoticeEffect, ReasonRecord, StatusEffect
from sellerflow.tables import SELLERS
from sellerflow.vocabulary import SellerActionKind, SellerStatus
from tests.activities.test_notifications import CAPS, NOW, make_seller

LATE = ReasonRecord(
    summary="late_shipment_rate is warn",
    kpi="late_shipment_rate",
    value=0.091,
    threshold=0.08,
    window_days=30,
    sample=220,
    evidence=["20 of 220"],
)
SUSPENDED = Capabilities(listing_cap=0, daily_order_cap=0, payouts_deferred=True)


def apply(engine: sa.Engine, seller_id: str, key: str, effect: StatusEffect, before: str) -> None:
    inp = ApplySellerStatusInput(
        seller_id=seller_id, key=key, from_status=SellerStatus(before), effect=effect, at=NOW
    )
    ActivityEnvironment().run(SellerActivities(engine).apply_status, inp)


def mail(engine: sa.Engine, key: str) -> Notification:
    with Session(engine) as session:
        row = session.exec(select(Notification).where(Notification.idempotency_key == key)).one()
    return row


def test_an_automated_warning_states_its_kpi_facts_ground_and_end(
    engine: sa.Engine, policy: Policy
) -> None:
    _, seller = make_seller(engine, policy)
    improve_by = NOW + timedelta(days=14)
    effect = StatusEffect(
        status=SellerStatus.warned,
        action=SellerActionKind.warn,
        capabilities=CAPS,
        reason=LATE,
        improve_by=improve_by,
    )
    with engine.begin() as conn:  # the version its workflow runs under
        conn.execute(sa.update(SELLERS).values(policy_version="stricter-2"))
    for _ in range(2):  # a retried activity stores one notice
        apply(engine, str(seller.id), "k1", effect, "active")

    with engine.connect() as conn:
        [(notice_id, notice, version)] = statements.notices_of(conn, seller.id)
        [action_version] = conn.execute(sa.select(table_of(SellerAction).c.policy_version)).all()
    assert notice_id == statements.notice_id("seller-notice:k1")
    assert version == action_version[0] == "stricter-2"  # decided under the seller's version
    assert notice.decision == "warn"
    assert (notice.starts_at, notice.ends_at) == (NOW, improve_by)
    assert notice.automated.detected
    assert notice.automated.decided
    assert notice.ground.clause == "performance"
    [fact] = notice.facts
    assert (fact.kpi, fact.value, fact.threshold, fact.window_days, fact.sample) == (
        "late_shipment_rate",
        0.091,
        0.08,
        30,
        220,
    )
    assert not notice.redress.appeal
    assert notice.redress.mediator
    text = mail(engine, "seller-notice:k1").body_text
    assert "late_shipment_rate 0.091 against a threshold of 0.08, over 30 days, 220 orders" in text
    assert GROUNDS["performance"] in text
    assert "until 2026-06-15 12:00 UTC" in text


def test_a_suspension_by_staff_says_a_person_decided_and_until_when_to_appeal(
    engine: sa.Engine, policy: Policy
) -> None:
    _, seller = make_seller(engine, policy)
    appeal_by = NOW + timedelta(days=30)
    effect = StatusEffect(
        status=SellerStatus.suspended,
        action=SellerActionKind.suspend,
        capabilities=SUSPENDED,
        reason=ReasonRecord(summary="manual suspend by ops1: listings copied from another seller"),
        actor="ops1",
        appeal_by=appeal_by,
    )
    apply(engine, str(seller.id), "k2", effect, "active")

    with engine.connect() as conn:
        [(_, notice, _)] = statements.notices_of(conn, seller.id)
    assert not notice.automated.detected
    assert not notice.automated.decided
    assert notice.actor == "ops1"
    assert notice.ground.clause == "obligations"
    assert (notice.scope.listing_cap, notice.scope.payouts_deferred) == (0, True)
    assert notice.redress.appeal
    assert notice.redress.appeal_by == appeal_by
    text = mail(engine, "seller-notice:k2").body_text
    assert "before 2026-07-01 12:00 UTC" in text
    assert "a person decided it" in text
    assert "ops1" not in text, "the seller is told what was decided, not by whom"


def test_a_move_that_restricts_nothing_has_no_notice(engine: sa.Engine, policy: Policy) -> None:
    _, seller = make_seller(engine, policy)
    for key, before, action in (
        ("r1", "suspended", SellerActionKind.reinstate),
        ("r2", "warned", None),
    ):
        effect = StatusEffect(
            status=SellerStatus.active,
            action=action,
            capabilities=CAPS,
            reason=ReasonRecord(summary="KPIs recovered"),
        )
        apply(engine, str(seller.id), key, effect, before)
    with engine.connect() as conn:
        assert statements.notices_of(conn, seller.id) == []


def test_the_offboarding_notice_and_a_trial_extension_store_theirs_with_the_mail(
    engine: sa.Engine, policy: Policy
) -> None:
    _, seller = make_seller(engine, policy)
    notes = NotificationActivities(engine, Settings(), policy)
    ends = NOW + timedelta(days=30)
    for template, key, reason in (
        (
            "offboarding_notice",
            "n1",
            ReasonRecord(summary="repeated blocker", ground="mystery_orders"),
        ),
        (
            "trial_extended",
            "n2",
            ReasonRecord(summary="extend by ssm1: two more months", ground="trial"),
        ),
        ("mystery_order_finding", "n3", ReasonRecord(summary="battery below 80%")),
    ):
        effect = NoticeEffect(template=template, reason=reason, ends_at=ends)
        inp = NotifyInput(
            template=template,
            key=key,
            seller_id=str(seller.id),
            context={"reason": reason.summary, "notice_ends_at": "2026-07-01 12:00 UTC"},
            notice=effect,
            at=NOW,
        )
        for _ in range(2):
            ActivityEnvironment().run(notes.notify, inp)

    with Session(engine) as session:
        rows = session.exec(select(SellerNotice).order_by(SellerNotice.idempotency_key)).all()
    assert [(r.idempotency_key, r.decision, r.ends_at) for r in rows] == [
        ("n1", "offboard_notice", ends),
        ("n2", "trial_extend", ends),
    ]
    assert rows[0].statement["ground"]["clause"] == "mystery_orders"
    assert GROUNDS["mystery_orders"] in mail(engine, "n1").body_text
    assert "ssm1" not in mail(engine, "n2").body_text
