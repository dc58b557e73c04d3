"""The bulk evaluation: `score_chunk` over the sellers in chunks, then `rank` per category."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from sellerflow.db import table_of
from sellerflow.models import ScorecardRow, SellerDay
from sellerflow.policy.model import Policy
from sellerflow.policy.seller_state import ReasonRecord
from sellerflow.scoring import HISTORY_DAYS, category_means, rank, score_chunk
from sellerflow.vocabulary import KPI, Standing
from tests.support.builders import AS_OF, SELLER_TABLE, days_before, make_orders, make_seller

CARD_TABLE: sa.Table = table_of(ScorecardRow)
DAY_TABLE: sa.Table = table_of(SellerDay)
CHUNK = 4


@dataclass
class Sellers:
    cancelling: uuid.UUID  # 1 of 10 cancelled: good -> limit
    clean: uuid.UUID  # 200 clean orders: stays good
    recovered: uuid.UUID  # no orders, was warned: warn -> good
    trial: uuid.UUID  # in trial, 1 of 20 cancelled: below the trial minimum, stays good
    borderline: uuid.UUID  # recycler, 1 of 50 cancelled (2 %): good -> warn
    recycler: uuid.UUID  # recycler, 10 clean orders: stays good
    offboarded: uuid.UUID  # 1 of 10 cancelled, but offboarded: never scored

    @property
    def scored(self) -> set[uuid.UUID]:
        return {
            self.cancelling,
            self.clean,
            self.recovered,
            self.trial,
            self.borderline,
            self.recycler,
        }


def ordered_ids(count: int) -> list[uuid.UUID]:
    return sorted(uuid.uuid4() for _ in range(count))


def seed(conn: sa.Connection) -> Sellers:
    """Seven sellers; the offboarded one's id lies inside the first chunk's id range."""
    ids = ordered_ids(7)
    sellers = Sellers(
        cancelling=ids[0],
        offboarded=ids[1],
        clean=ids[2],
        recovered=ids[3],
        trial=ids[4],
        borderline=ids[5],
        recycler=ids[6],
    )
    recent = days_before(5)
    for seller_id, category, status, standing, orders, cancelled in (
        (sellers.cancelling, "repair_workshop", "active", "good", 10, 1),
        (sellers.clean, "repair_workshop", "active", "good", 200, 0),
        (sellers.recovered, "repair_workshop", "warned", "warn", 0, 0),
        (sellers.trial, "repair_workshop", "trial", "good", 20, 1),
        (sellers.borderline, "recycler", "active", "good", 50, 1),
        (sellers.recycler, "recycler", "active", "good", 10, 0),
        (sellers.offboarded, "repair_workshop", "offboarded", "good", 10, 1),
    ):
        make_seller(conn, seller_id=seller_id, category=category, status=status, standing=standing)
        make_orders(conn, seller_id, cancelled, placed_at=recent, cancelled_by_seller=True)
        make_orders(conn, seller_id, orders - cancelled, placed_at=recent)
    return sellers


Changes = list[tuple[uuid.UUID, Standing, list[ReasonRecord]]]


def evaluate(
    engine: sa.Engine, policy: Policy, as_of: datetime = AS_OF
) -> tuple[list[int], Changes]:
    """Run the chunks to the end, each in its own transaction as the activity does."""
    with engine.connect() as conn:
        means = category_means(conn, policy, as_of)
    after: uuid.UUID | None = None
    sizes: list[int] = []
    changes: Changes = []
    while True:
        with engine.begin() as conn:
            after, scored, chunk_changes = score_chunk(conn, policy, as_of, after, CHUNK, means)
        if after is None:
            assert scored == 0
            assert chunk_changes == []
            return sizes, changes
        sizes.append(scored)
        changes += chunk_changes


def seller_rows(engine: sa.Engine) -> dict[uuid.UUID, sa.Row[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {row.id: row for row in conn.execute(sa.select(SELLER_TABLE))}


def cards(engine: sa.Engine) -> dict[uuid.UUID, dict[str, sa.Row[tuple[object, ...]]]]:
    result: dict[uuid.UUID, dict[str, sa.Row[tuple[object, ...]]]] = {}
    with engine.connect() as conn:
        for row in conn.execute(sa.select(CARD_TABLE)):
            result.setdefault(row.seller_id, {})[row.kpi] = row
    return result


@pytest.fixture
def sellers(engine: sa.Engine) -> Sellers:
    with engine.begin() as conn:
        return seed(conn)


def test_every_active_seller_is_scored_once_in_chunks(
    engine: sa.Engine, policy: Policy, sellers: Sellers
) -> None:
    sizes, _ = evaluate(engine, policy)

    assert sizes == [4, 2]
    rows = seller_rows(engine)
    assert {sid for sid, row in rows.items() if row.evaluated_at == AS_OF} == sellers.scored
    assert {sid for sid, row in rows.items() if row.score is not None} == sellers.scored
    assert all(0 <= rows[sid].score <= 100 for sid in sellers.scored)


def test_scorecards_are_written_six_rows_a_seller(
    engine: sa.Engine, policy: Policy, sellers: Sellers
) -> None:
    evaluate(engine, policy)
    evaluate(engine, policy)

    written = cards(engine)
    assert set(written) == sellers.scored
    assert all(set(card) == {kpi.value for kpi in KPI} for card in written.values())
    cancellation = written[sellers.cancelling][KPI.seller_cancellation_rate.value]
    assert (cancellation.numerator, cancellation.denominator) == (1, 10)
    assert cancellation.value == pytest.approx(0.1)
    assert (cancellation.status, cancellation.window_days) == ("limit", 30)
    assert cancellation.evaluated_at == AS_OF
    assert {c.policy_version for card in written.values() for c in card.values()} == {
        policy.version  # the thresholds that decided each status
    }
    trial = written[sellers.trial][KPI.seller_cancellation_rate.value]
    assert trial.status == "not_enough_data"
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(CARD_TABLE)).scalar_one()
    assert total == 6 * len(sellers.scored)


def days_written(engine: sa.Engine) -> dict[uuid.UUID, dict[date, sa.Row[tuple[object, ...]]]]:
    result: dict[uuid.UUID, dict[date, sa.Row[tuple[object, ...]]]] = {}
    with engine.connect() as conn:
        for row in conn.execute(sa.select(DAY_TABLE)):
            result.setdefault(row.seller_id, {})[row.day] = row
    return result


def test_the_daily_history_keeps_one_row_a_seller_a_day_for_its_90_days(
    engine: sa.Engine, policy: Policy, sellers: Sellers
) -> None:
    evaluate(engine, policy)
    evaluate(engine, policy)  # a rerun the same day replaces the day's row

    written = days_written(engine)
    assert set(written) == sellers.scored
    assert all(list(days) == [AS_OF.date()] for days in written.values())
    cancelling = written[sellers.cancelling][AS_OF.date()]
    assert cancelling.standing == "limit"
    assert cancelling.kpis[KPI.seller_cancellation_rate.value] == pytest.approx(0.1)
    assert cancelling.samples[KPI.seller_cancellation_rate.value] == 10
    assert cancelling.score == seller_rows(engine)[sellers.cancelling].score
    assert written[sellers.recovered][AS_OF.date()].kpis[KPI.order_defect_rate.value] is None

    evaluate(engine, policy, AS_OF + timedelta(days=1))
    assert all(len(days) == 2 for days in days_written(engine).values())
    evaluate(engine, policy, AS_OF + timedelta(days=HISTORY_DAYS))
    kept = days_written(engine)
    assert all(
        sorted(days) == [(AS_OF + timedelta(days=n)).date() for n in (1, HISTORY_DAYS)]
        for days in kept.values()
    ), "the day 90 days back is dropped"


def test_only_standing_changes_are_returned(
    engine: sa.Engine, policy: Policy, sellers: Sellers
) -> None:
    _, changes = evaluate(engine, policy)

    assert {sid: new for sid, new, _ in changes} == {
        sellers.cancelling: Standing.limit,
        sellers.recovered: Standing.good,
        sellers.borderline: Standing.warn,
    }
    assert len(changes) == 3
    reasons = {sid: reasons for sid, _, reasons in changes}
    assert [r.kpi for r in reasons[sellers.cancelling]] == [KPI.seller_cancellation_rate.value]
    assert reasons[sellers.cancelling][0].threshold == pytest.approx(0.025)
    assert reasons[sellers.recovered] == []
    rows = seller_rows(engine)
    assert {sid: rows[sid].standing for sid in sellers.scored} == {
        sellers.cancelling: "limit",
        sellers.clean: "good",
        sellers.recovered: "good",
        sellers.trial: "good",
        sellers.borderline: "warn",
        sellers.recycler: "good",
    }

    # A retry of the chunk (it committed, its attempt timed out) finds the same changes: what
    # the sellers' workflows acted on did not change, so nothing is lost.
    _, retried = evaluate(engine, policy)
    assert {(sid, new) for sid, new, _ in retried} == {(sid, new) for sid, new, _ in changes}

    with engine.begin() as conn:  # the workflows act on them, as `record_standing` writes
        for sid, new, _ in changes:
            conn.execute(
                sa.update(SELLER_TABLE)
                .where(SELLER_TABLE.c.id == sid)
                .values(applied_standing=new.value)
            )
    _, after = evaluate(engine, policy)
    assert after == []


def test_offboarded_sellers_are_skipped(
    engine: sa.Engine, policy: Policy, sellers: Sellers
) -> None:
    _, changes = evaluate(engine, policy)

    offboarded = seller_rows(engine)[sellers.offboarded]
    assert (offboarded.standing, offboarded.score, offboarded.evaluated_at) == ("good", None, None)
    assert sellers.offboarded not in {sid for sid, _, _ in changes}
    assert sellers.offboarded not in cards(engine)


def test_offboarded_sellers_keep_their_last_scorecard(
    engine: sa.Engine, policy: Policy, sellers: Sellers
) -> None:
    """Skipping means not touching: the scorecard from before the offboarding stays."""
    before = AS_OF.replace(month=5)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(CARD_TABLE).values(
                seller_id=sellers.offboarded,
                kpi=KPI.seller_cancellation_rate.value,
                window_days=30,
                numerator=1,
                denominator=10,
                value=0.1,
                warn=0.02,
                limit=0.025,
                status="limit",
                evaluated_at=before,
            )
        )

    evaluate(engine, policy)

    kept = cards(engine).get(sellers.offboarded, {})
    assert set(kept) == {KPI.seller_cancellation_rate.value}
    assert kept[KPI.seller_cancellation_rate.value].evaluated_at == before


def test_rank_stores_percentiles_within_each_category(
    engine: sa.Engine, policy: Policy, sellers: Sellers
) -> None:
    evaluate(engine, policy)

    with engine.begin() as conn:
        ranked = rank(conn)

    # Repair workshops (the offboarded seller's orders left out): 2 cancellations in 230
    # orders, a prior of 0.87 %. Smoothed with a strength of 20: cancelling (1 + 0.174) / 30
    # = 3.9 %, trial (1 + 0.174) / 40 = 2.9 %, recovered 0.87 %, clean 0.174 / 220 = 0.079 %;
    # every other rate KPI is 0 for all of them.
    assert ranked == len(sellers.scored)
    rows = seller_rows(engine)
    assert {sid: rows[sid].category_percentile for sid in sellers.scored} == {
        sellers.cancelling: 0.0,
        sellers.trial: 33.3,
        sellers.recovered: 66.7,
        sellers.clean: 100.0,
        sellers.borderline: 0.0,
        sellers.recycler: 100.0,
    }
    assert rows[sellers.offboarded].category_percentile is None
    # clean: (3 x 1 + 2 x 1 + 2 x (1 - 0.00079 / 0.05) + 0.8 + 0.75 + 0.75) / 10 weights
    assert rows[sellers.clean].score == pytest.approx(92.68, abs=0.01)
