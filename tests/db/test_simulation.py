"""The what-if equals the real evaluation: a version's simulated standings are the standings a
real evaluation under that version writes over the same order events, and nothing is written."""

import random
import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from sellerflow.db import table_of
from sellerflow.models import ScorecardRow
from sellerflow.policy.model import Policy
from sellerflow.scoring import category_means, score_chunk
from sellerflow.simulation import simulate
from tests.support.builders import AS_OF, ORDER_TABLE, SELLER_TABLE, days_before, make_seller

CATEGORIES = ("repair_workshop", "recycler", "retailer")
STATUSES = ("active", "active", "warned", "limited", "trial", "offboarded")


def seed(conn: sa.Connection, rng: random.Random, sellers: int) -> None:
    """Sellers of mixed categories and statuses, each with orders late, cancelled, refunded and
    rated at its own rates, over the last 100 days."""
    rows = []
    for _ in range(sellers):
        seller_id = make_seller(conn, category=rng.choice(CATEGORIES), status=rng.choice(STATUSES))
        late, cancel, refund = rng.random() * 0.15, rng.random() * 0.04, rng.random() * 0.1
        for _ in range(rng.randrange(0, 60)):
            placed = days_before(rng.uniform(0, 100))
            shipped = rng.random() < 0.9
            rows.append(
                {
                    "order_id": f"order-{uuid.uuid4().hex}",
                    "seller_id": seller_id,
                    "placed_at": placed,
                    "ship_by": placed + timedelta(days=2),
                    "shipped_at": placed + timedelta(days=3 if rng.random() < late else 1)
                    if shipped
                    else None,
                    "promised_delivery_at": placed + timedelta(days=5),
                    "delivered_at": placed + timedelta(days=rng.choice((4, 5, 6)))
                    if shipped
                    else None,
                    "cancelled_by_seller": rng.random() < cancel,
                    "returned": False,
                    "return_reason": None,
                    "refunded": (accountable := rng.random() < refund),
                    "refund_seller_accountable": accountable,
                    "complaint": rng.random() < 0.01,
                    "chargeback": False,
                    "review_rating": rng.choice((None, 2, 3, 4, 5, 5)),
                    "updated_at": AS_OF,
                }
            )
    conn.execute(sa.insert(ORDER_TABLE), rows)


def stricter(policy: Policy) -> Policy:
    """A late-shipment warning at 5 %, a shorter refund window and a tighter cancellation limit."""
    rules: dict[str, Any] = policy.model_dump(mode="json")
    rules["version"] = "stricter-1"
    rules["kpis"]["late_shipment_rate"]["warn"] = 0.05
    rules["kpis"]["refund_rate"]["window_days"] = 45
    rules["kpis"]["seller_cancellation_rate"]["limit"] = 0.02
    return Policy.model_validate(rules)


def evaluate(engine: sa.Engine, policy: Policy) -> dict[uuid.UUID, tuple[str, dict[str, Any]]]:
    """A real evaluation as the workflow runs it; each scored seller's standing and scorecard."""
    with engine.begin() as conn:
        means = category_means(conn, policy, AS_OF)
    after = None
    while True:
        with engine.begin() as conn:
            after, _, _ = score_chunk(conn, policy, AS_OF, after, 5, means)
        if after is None:
            break
    card = table_of(ScorecardRow)
    with engine.connect() as conn:
        scored = conn.execute(
            sa.select(SELLER_TABLE.c.id, SELLER_TABLE.c.standing).where(
                SELLER_TABLE.c.evaluated_at.is_not(None)
            )
        )
        standings = {row.id: row.standing for row in scored}
        cards: dict[uuid.UUID, dict[str, Any]] = {s: {} for s in standings}
        for row in conn.execute(sa.select(card)):
            cards[row.seller_id][row.kpi] = (row.value, row.status)
    return {s: (str(standings[s]), cards[s]) for s in standings}


def snapshot(engine: sa.Engine) -> list[Any]:
    with engine.connect() as conn:
        sellers = conn.execute(sa.select(SELLER_TABLE).order_by(SELLER_TABLE.c.id)).all()
        cards = conn.execute(sa.select(sa.func.count()).select_from(table_of(ScorecardRow)))
        return [*sellers, cards.scalar_one()]


@pytest.mark.parametrize("chunk_size", [3, 1000])
def test_the_what_if_equals_a_real_evaluation(
    engine: sa.Engine, policy: Policy, chunk_size: int
) -> None:
    with engine.begin() as conn:
        seed(conn, random.Random(19), sellers=40)
    proposed = stricter(policy)
    untouched = snapshot(engine)

    with engine.connect() as conn:
        result = simulate(conn, policy, proposed, AS_OF, chunk_size=chunk_size)

    assert snapshot(engine) == untouched  # nothing written
    before, after = evaluate(engine, policy), evaluate(engine, proposed)
    assert result["sellers"] == len(before) == len(after)
    for side, evaluated in (("current", before), ("proposed", after)):
        counts = {"good": 0, "warn": 0, "limit": 0}
        for standing, _ in evaluated.values():
            counts[standing] += 1
        assert result["standings"][side] == counts
    moved = {s for s in before if before[s][0] != after[s][0]}
    assert moved, "the stricter rules change no standing: the test data proves nothing"
    assert {uuid.UUID(c["seller_id"]) for c in result["changes"]} == moved
    assert result["changed"] == len(moved)
    for change in result["changes"]:
        seller = uuid.UUID(change["seller_id"])
        assert (change["from"], change["to"]) == (before[seller][0], after[seller][0])
        assert change["kpis"], "a change names the KPIs that make it"
        for kpi in change["kpis"]:
            assert (kpi["value"], kpi["status"]) == after[seller][1][kpi["kpi"]]
            assert kpi["current_status"] == before[seller][1][kpi["kpi"]][1]
    by_category = result["by_category"]
    assert sum(c["changed"] for c in by_category.values()) == len(moved)
    assert {sum(c["proposed"].values()) for c in by_category.values()} != {0}


def test_an_earlier_date_evaluates_the_orders_up_to_it(engine: sa.Engine, policy: Policy) -> None:
    with engine.begin() as conn:
        seed(conn, random.Random(7), sellers=15)
    earlier = AS_OF - timedelta(days=20)
    with engine.connect() as conn:
        then = simulate(conn, policy, stricter(policy), earlier, chunk_size=4)
        now = simulate(conn, policy, stricter(policy), AS_OF, chunk_size=4)
    assert then["sellers"] == now["sellers"] == 15 - then_offboarded(engine)
    assert then != now


def then_offboarded(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        query = sa.select(sa.func.count()).where(SELLER_TABLE.c.status == "offboarded")
        return int(conn.execute(query.select_from(SELLER_TABLE)).scalar_one())


def test_the_same_rules_change_nothing(engine: sa.Engine, policy: Policy) -> None:
    with engine.begin() as conn:
        seed(conn, random.Random(3), sellers=10)
    with engine.connect() as conn:
        result = simulate(conn, policy, policy, AS_OF, chunk_size=4)
    assert result["changes"] == []
    assert result["standings"]["current"] == result["standings"]["proposed"]
