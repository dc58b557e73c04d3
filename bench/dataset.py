"""A synthetic marketplace for the evaluation benchmark: sellers and order events, bulk-loaded.

Most sellers are good; a few percent are bad on one KPI; order counts are skewed, so many
sellers have too few orders for some KPIs. Rows are built from a handful of order outcomes and
a precomputed table of timestamps, so generating two million rows stays cheap in pure Python.
"""

import random
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

import psycopg
import sqlalchemy as sa

from sellerflow.vocabulary import ReturnReason, SellerCategory, SellerStatus, Standing

AS_OF = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
WINDOW_HOURS = 90 * 24  # the longest KPI window
SHIP_BY_HOURS, PROMISED_HOURS = 48, 120
LATEST_HOURS = WINDOW_HOURS + 24 * 14  # room for the latest shipment and delivery
BATCH = 50_000

ORDER_COLUMNS = (
    "order_id",
    "seller_id",
    "placed_at",
    "ship_by",
    "shipped_at",
    "promised_delivery_at",
    "delivered_at",
    "cancelled_by_seller",
    "returned",
    "return_reason",
    "refunded",
    "refund_seller_accountable",
    "complaint",
    "chargeback",
    "review_rating",
    "updated_at",
)
SELLER_COLUMNS = (
    "id",
    "application_id",
    "legal_name",
    "seller_category",
    "country",
    "status",
    "payouts_deferred",
    "standing",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True)
class Outcome:
    """What happened to an order; times are hours after it was placed."""

    weight: float
    shipped_after: int | None = 20
    delivered_after: int | None = 90
    cancelled: bool = False
    return_reason: str | None = None
    refunded: bool = False
    accountable: bool = False
    complaint: bool = False
    chargeback: bool = False
    rating: int | None = None


NOT_AS_DESCRIBED = ReturnReason.not_as_described.value
GOOD_OUTCOMES = {
    "rated_5": Outcome(30, rating=5),
    "rated_4": Outcome(15, rating=4),
    "unrated": Outcome(40),
    "in_transit": Outcome(3, delivered_after=None),
    "late_shipment": Outcome(2, shipped_after=60, delivered_after=110),
    "late_delivery": Outcome(2, shipped_after=30, delivered_after=140, rating=3),
    "cancelled": Outcome(0.4, shipped_after=None, delivered_after=None, cancelled=True),
    "changed_mind": Outcome(3, return_reason=ReturnReason.changed_mind.value, refunded=True),
    "refund_accountable": Outcome(
        1, return_reason=ReturnReason.other.value, refunded=True, accountable=True
    ),
    "not_as_described": Outcome(
        0.1, return_reason=NOT_AS_DESCRIBED, refunded=True, accountable=True, rating=2
    ),
    "complaint": Outcome(0.1, complaint=True, rating=1),
    "chargeback": Outcome(0.05, chargeback=True),
}
# A bad seller is bad on one KPI: the outcomes that drive it are this many times as likely.
BAD_PROFILES: dict[str, dict[str, float]] = {
    "defects": {"not_as_described": 25, "complaint": 20},
    "cancellations": {"cancelled": 15},
    "late_shipments": {"late_shipment": 9},
    "late_deliveries": {"late_delivery": 9},
    "refunds": {"refund_accountable": 9},
    "low_ratings": {"rated_5": 0.05, "rated_4": 0.1, "late_delivery": 3, "complaint": 60},
}
BAD_SHARE = 0.012  # of the sellers, per bad profile
STATUS_SHARES = {
    (SellerStatus.trial, Standing.good): 0.08,
    (SellerStatus.warned, Standing.warn): 0.01,
    (SellerStatus.limited, Standing.limit): 0.005,
    (SellerStatus.suspended, Standing.limit): 0.003,
    (SellerStatus.offboarded, Standing.good): 0.007,
}


@dataclass(frozen=True)
class Profile:
    outcomes: list[Outcome]
    cum_weights: list[float]


def _profile(boost: dict[str, float]) -> Profile:
    outcomes = [
        replace(outcome, weight=outcome.weight * boost.get(name, 1))
        for name, outcome in GOOD_OUTCOMES.items()
    ]
    return Profile(outcomes, list(accumulate(o.weight for o in outcomes)))


PROFILES = [_profile({})] + [_profile(boost) for boost in BAD_PROFILES.values()]


@dataclass
class Dataset:
    """Generates rows for one database; `timestamps[i]` is the window start plus i hours."""

    sellers: int
    orders: int
    seed: int = 20260630
    timestamps: Sequence[str] = field(default_factory=list)

    def seller_rows(self) -> Iterator[tuple[Any, ...]]:
        rng = random.Random(self.seed)
        now = self.timestamps[WINDOW_HOURS]
        for i, seller_id in enumerate(self._seller_ids()):
            status, standing = self._status(rng)
            category = list(SellerCategory)[i % len(SellerCategory)].value
            yield (
                seller_id,
                uuid.UUID(int=rng.getrandbits(128), version=4).hex,
                f"Seller {i}",
                category,
                "FR",
                status.value,
                status != SellerStatus.active,
                standing.value,
                now,
                now,
            )

    def order_rows(self) -> Iterator[tuple[Any, ...]]:
        rng = random.Random(self.seed + 1)
        ts = self.timestamps
        now = ts[WINDOW_HOURS]
        number = 0
        for seller_id, count in zip(self._seller_ids(), self._order_counts(), strict=True):
            profile = self._profile(rng)
            hours = rng.choices(range(WINDOW_HOURS), k=count)
            outcomes = rng.choices(profile.outcomes, cum_weights=profile.cum_weights, k=count)
            for h, o in zip(hours, outcomes, strict=True):
                number += 1
                yield (
                    f"bench-{number}",
                    seller_id,
                    ts[h],
                    ts[h + SHIP_BY_HOURS],
                    None if o.shipped_after is None else ts[h + o.shipped_after],
                    ts[h + PROMISED_HOURS],
                    None if o.delivered_after is None else ts[h + o.delivered_after],
                    o.cancelled,
                    o.return_reason is not None,
                    o.return_reason,
                    o.refunded,
                    o.accountable,
                    o.complaint,
                    o.chargeback,
                    o.rating,
                    now,
                )

    def _seller_ids(self) -> Iterator[str]:
        rng = random.Random(self.seed + 2)
        for _ in range(self.sellers):
            yield uuid.UUID(int=rng.getrandbits(128), version=4).hex

    def _order_counts(self) -> list[int]:
        """Log-normal order counts (median about half the mean), summing to `orders` exactly."""
        rng = random.Random(self.seed + 3)
        raw = [rng.lognormvariate(0, 1.1) for _ in range(self.sellers)]
        scale = self.orders / sum(raw)
        counts = [int(r * scale) for r in raw]
        for i in range(self.orders - sum(counts)):
            counts[i % self.sellers] += 1
        return counts

    @staticmethod
    def _status(rng: random.Random) -> tuple[SellerStatus, Standing]:
        draw = rng.random()
        for status_standing, share in STATUS_SHARES.items():
            if draw < share:
                return status_standing
            draw -= share
        return SellerStatus.active, Standing.good

    @staticmethod
    def _profile(rng: random.Random) -> Profile:
        bad = int(rng.random() / BAD_SHARE)
        return PROFILES[1 + bad] if bad < len(BAD_PROFILES) else PROFILES[0]


def hourly_timestamps(suffix: str) -> list[str]:
    start = AS_OF - timedelta(hours=WINDOW_HOURS)
    return [
        (start + timedelta(hours=h)).strftime("%Y-%m-%d %H:%M:%S.%f") + suffix
        for h in range(LATEST_HOURS)
    ]


def batches(rows: Iterator[tuple[Any, ...]], size: int = BATCH) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# (table, columns, rows): what a benchmark loads.
Tables = Iterable[tuple[str, Sequence[str], Iterable[tuple[Any, ...]]]]


def copy_into_postgres(engine: sa.Engine, tables: Tables) -> None:
    """Each table's rows by `COPY`, then `VACUUM ANALYZE`."""
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert isinstance(conn, psycopg.Connection)
        with conn.cursor() as cursor:
            for table, columns, rows in tables:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        conn.commit()
        conn.autocommit = True
        # What autovacuum does on a live database; the visibility map allows index-only scans.
        conn.execute("VACUUM ANALYZE")
        # Back in the pool as the engine hands it out, or the next `engine.begin()` would not
        # open a transaction.
        conn.autocommit = False
    finally:
        raw.close()


def insert_into_sqlite(engine: sa.Engine, tables: Tables) -> None:
    """Each table's rows in batches, then `ANALYZE`."""
    with engine.begin() as conn:
        for table, columns, rows in tables:
            insert = (
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})"
            )
            for batch in batches(iter(rows)):
                conn.exec_driver_sql(insert, batch)
        conn.exec_driver_sql("ANALYZE")


def dataset_tables(sellers: int, orders: int, utc_suffix: str) -> Tables:
    """The sellers and their orders, timestamps written as the database reads them."""
    data = Dataset(sellers, orders, timestamps=hourly_timestamps(utc_suffix))
    return [
        ("seller", SELLER_COLUMNS, data.seller_rows()),
        ("order_event", ORDER_COLUMNS, data.order_rows()),
    ]


def load_postgres(engine: sa.Engine, sellers: int, orders: int) -> None:
    copy_into_postgres(engine, dataset_tables(sellers, orders, "+00"))


def load_sqlite(engine: sa.Engine, sellers: int, orders: int) -> None:
    insert_into_sqlite(engine, dataset_tables(sellers, orders, ""))
