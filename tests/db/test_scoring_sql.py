"""The evaluation's SQL scoring equals the pure policy functions exactly, over random order sets:
KPIs and their minimum samples, scorecard statuses, standing, the smoothed score and the
percentile (`sellerflow.scoring_sql` against `sellerflow.policy.kpis`)."""

import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sellerflow.db import table_of
from sellerflow.models import ScorecardRow, SellerDay
from sellerflow.policy.kpis import percentiles, score, scorecard, standing
from sellerflow.policy.lifecycle import breach_reasons
from sellerflow.policy.model import Policy
from sellerflow.scoring import rank, score_chunk, seller_counts
from sellerflow.scoring_sql import python_round
from sellerflow.vocabulary import KPI
from tests.support.builders import AS_OF, ORDER_TABLE, SELLER_TABLE, make_seller, order_row

CATEGORIES = ["repair_workshop", "recycler"]
DB_SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Doubles where rounding a product is not rounding the value: just below or on a half.
AWKWARD = [0.145, 2.675, 87.125, 0.125, 14.5, 0.005, 1.005, 99.995, 0.049999999999999996]


@DB_SETTINGS
@given(st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), max_size=20))
@example(AWKWARD)
def test_python_round_in_sql_is_pythons_round(engine: sa.Engine, values: list[float]) -> None:
    values = [*values, *(v + d for v in AWKWARD for d in (-1e-13, 1e-13))]
    query = sa.select(
        *(python_round(sa.literal(v, sa.Float), digits) for v in values for digits in (1, 2))
    )
    with engine.connect() as conn:
        got = list(conn.execute(query).one())

    assert got == [round(v, digits) for v in values for digits in (1, 2)]


ORDER = st.fixed_dictionaries(
    {
        "days_ago": st.floats(min_value=-1, max_value=95),
        "ship_hours": st.one_of(st.none(), st.integers(min_value=0, max_value=96)),
        "deliver_hours": st.one_of(st.none(), st.integers(min_value=0, max_value=240)),
        "cancelled_by_seller": st.booleans(),
        "returned": st.sampled_from([None, "not_as_described", "changed_mind"]),
        "refunded": st.sampled_from([None, True, False]),
        "complaint": st.booleans(),
        "chargeback": st.booleans(),
        "review_rating": st.one_of(st.none(), st.integers(min_value=1, max_value=5)),
    }
)
SELLER = st.fixed_dictionaries(
    {
        "category": st.sampled_from(CATEGORIES),
        "status": st.sampled_from(["active", "trial", "warned"]),
        "standing": st.sampled_from(["good", "warn", "limit"]),
        # A few orders repeated: enough to pass the minimum samples, with ties in the scores.
        "orders": st.lists(st.tuples(ORDER, st.integers(min_value=1, max_value=30)), max_size=5),
    }
)
# A category's mean is a ratio of order counts (or of ratings): never below 1e-12 unless 0.
# (PostgreSQL refuses a product that underflows to zero, which such a prior never makes.)
MEAN = st.one_of(st.just(0.0), st.floats(min_value=1e-12, max_value=5))
MEANS = st.dictionaries(
    st.sampled_from(CATEGORIES),
    st.dictionaries(st.sampled_from([k.value for k in KPI]), MEAN, max_size=6),
    max_size=2,
)


def order_of(seller_id: uuid.UUID, spec: dict[str, Any]) -> dict[str, Any]:
    placed = AS_OF - timedelta(days=spec["days_ago"])
    ship_by, promised = placed + timedelta(hours=48), placed + timedelta(hours=120)
    outcome: dict[str, Any] = {
        "ship_by": ship_by,
        "promised_delivery_at": promised,
        "cancelled_by_seller": spec["cancelled_by_seller"],
        "complaint": spec["complaint"],
        "chargeback": spec["chargeback"],
        "review_rating": spec["review_rating"],
    }
    if spec["ship_hours"] is not None:
        outcome["shipped_at"] = placed + timedelta(hours=spec["ship_hours"])
    if spec["deliver_hours"] is not None:
        outcome["delivered_at"] = placed + timedelta(hours=spec["deliver_hours"])
    if spec["returned"]:
        outcome |= {"returned": True, "return_reason": spec["returned"]}
    if spec["refunded"] is not None:
        outcome |= {"refunded": True, "refund_seller_accountable": spec["refunded"]}
    return order_row(seller_id, placed, **outcome)


def with_strength(policy: Policy, strength: float) -> Policy:
    rules = policy.model_dump(mode="json")
    rules["score"]["prior_strength"] = strength
    return Policy.model_validate(rules)


@DB_SETTINGS
@given(
    sellers=st.lists(SELLER, min_size=1, max_size=6),
    means=MEANS,
    strength=st.sampled_from([20.0, 1.0, 7.5]),
    limit=st.integers(min_value=1, max_value=7),
)
def test_the_sql_scoring_equals_the_policy_functions(
    engine: sa.Engine,
    policy: Policy,
    sellers: list[dict[str, Any]],
    means: dict[str, dict[str, float]],
    strength: float,
    limit: int,
) -> None:
    policy = with_strength(policy, strength)
    with engine.connect() as conn, conn.begin() as transaction:
        seeded = {}
        for spec in sellers:
            seller_id = make_seller(
                conn, category=spec["category"], status=spec["status"], standing=spec["standing"]
            )
            rows = [order_of(seller_id, o) for o, times in spec["orders"] for _ in range(times)]
            for row in rows:
                row["order_id"] = f"order-{uuid.uuid4().hex}"
            if rows:
                conn.execute(sa.insert(ORDER_TABLE), rows)
            seeded[seller_id] = spec
        lo, hi = min(seeded), max(seeded)
        counts = seller_counts(conn, policy, AS_OF, lo, hi)
        changes: dict[uuid.UUID, Any] = {}
        after = None
        while True:  # chunks of `limit`, as the workflow runs them
            after, _, chunk_changes = score_chunk(conn, policy, AS_OF, after, limit, means)
            changes |= {seller_id: (new, reasons) for seller_id, new, reasons in chunk_changes}
            if after is None:
                break
        rank(conn)
        stored = {row.id: row for row in conn.execute(sa.select(SELLER_TABLE))}
        cards: dict[uuid.UUID, dict[str, Any]] = {}
        for row in conn.execute(sa.select(table_of(ScorecardRow))):
            cards.setdefault(row.seller_id, {})[row.kpi] = row
        days = {row.seller_id: row for row in conn.execute(sa.select(table_of(SellerDay)))}
        transaction.rollback()

    priors = {c: {KPI(k): v for k, v in m.items()} for c, m in means.items()}
    expected_scores: dict[str, dict[uuid.UUID, float]] = {}
    for seller_id, spec in seeded.items():
        seller_kpis = counts.get(seller_id, {})
        entries = scorecard(policy, seller_kpis, in_trial=spec["status"] == "trial")
        expected_standing = standing(entries)
        expected_score = score(policy, seller_kpis, priors.get(spec["category"], {}))
        expected_scores.setdefault(spec["category"], {})[seller_id] = expected_score
        row = stored[seller_id]
        assert (row.score, row.standing) == (expected_score, expected_standing.value)
        for entry in entries:
            card = cards[seller_id][entry.kpi.value]
            assert (card.numerator, card.denominator, card.value, card.status) == (
                entry.numerator,
                entry.denominator,
                entry.value,
                entry.status.value,
            )
        day = days[seller_id]
        assert day.kpis == {e.kpi.value: e.value for e in entries}
        assert day.samples == {e.kpi.value: e.denominator for e in entries}
        assert (day.score, day.standing) == (expected_score, expected_standing.value)
        if expected_standing.value != spec["standing"]:
            assert changes.pop(seller_id) == (expected_standing, breach_reasons(entries))
    assert changes == {}
    for scores in expected_scores.values():
        for seller_id, percentile in percentiles(scores).items():
            assert stored[seller_id].category_percentile == percentile
