"""The seller ranking's order, read from migration 0023's indexes: best score first, unscored
last, ties by id; at risk first when asked, each group in that order; pages that never overlap
and together give every matching seller once. Checked against the order worked out in Python,
on both databases, with ties, unscored sellers, notices (some withdrawn by a reinstatement) and
every page boundary, the one between the sellers at risk and the rest included."""

import random
import uuid
from datetime import timedelta
from itertools import product

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from sellerflow.db import table_of
from sellerflow.models import Notification, SellerAction
from sellerflow.services.sellers import SellerFilters, list_sellers, status_counts
from sellerflow.vocabulary import SellerCategory, SellerStatus, Standing
from tests.support.builders import AS_OF, SELLER_TABLE

SELLERS = 60
STATUSES = [SellerStatus.active, SellerStatus.trial, SellerStatus.limited, SellerStatus.offboarded]
CATEGORIES = [SellerCategory.recycler, SellerCategory.retailer]
# Few scores, so that many sellers tie on theirs.
SCORES = [None, 10.0, 55.5, 55.5, 90.0]


def seed(engine: sa.Engine) -> dict[uuid.UUID, dict[str, object]]:
    rng = random.Random(23)
    sellers: dict[uuid.UUID, dict[str, object]] = {}
    with engine.begin() as conn:
        for number in range(SELLERS):
            seller_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            row = {
                "id": seller_id,
                "application_id": uuid.uuid4(),
                "legal_name": f"Seller {number}",
                "country": "FR",
                "seller_category": rng.choice(CATEGORIES).value,
                "status": rng.choice(STATUSES).value,
                "standing": rng.choice([Standing.good] * 3 + [Standing.warn, Standing.limit]).value,
                "ssm_username": rng.choice(["ssm1", "ssm2", None]),
                "score": rng.choice(SCORES),
                "payouts_deferred": False,
                "created_at": AS_OF,
                "updated_at": AS_OF,
            }
            conn.execute(sa.insert(SELLER_TABLE).values(row))
            # One in five sent an offboarding notice; half of those reinstated after it.
            noticed = rng.random() < 0.2
            reinstated = noticed and rng.random() < 0.5
            if noticed:
                conn.execute(
                    sa.insert(table_of(Notification)).values(
                        id=uuid.uuid4(),
                        idempotency_key=f"notice:{seller_id}",
                        template="offboarding_notice",
                        recipient="seller@refurb.example",
                        subject="Offboarding notice",
                        body_text="30 days",
                        body_html="<p>30 days</p>",
                        seller_id=seller_id,
                        created_at=AS_OF - timedelta(days=2),
                        attempts=0,
                    )
                )
            if reinstated:
                conn.execute(
                    sa.insert(table_of(SellerAction)).values(
                        id=uuid.uuid4(),
                        seller_id=seller_id,
                        idempotency_key=f"reinstate:{seller_id}",
                        from_status="limited",
                        to_status="active",
                        action="reinstate",
                        actor="ops1",
                        reason={},
                        created_at=AS_OF - timedelta(days=1),
                    )
                )
            sellers[seller_id] = {
                **row,
                "under_notice": noticed and not reinstated and row["status"] != "offboarded",
            }
    return sellers


def at_risk(row: dict[str, object]) -> bool:
    return bool(
        row["standing"] != "good"
        or row["status"] in ("limited", "suspended")
        or row["under_notice"]
    )


def expected(
    sellers: dict[uuid.UUID, dict[str, object]], filters: SellerFilters
) -> list[uuid.UUID]:
    def matches(row: dict[str, object]) -> bool:
        return all(
            wanted is None or row[column] == getattr(wanted, "value", wanted)
            for column, wanted in (
                ("status", filters.status),
                ("seller_category", filters.category),
                ("standing", filters.standing),
                ("ssm_username", filters.ssm),
            )
        )

    def key(row: dict[str, object]) -> tuple[bool, bool, float, uuid.UUID]:
        score = row["score"]
        risk_last = filters.at_risk_first and not at_risk(row)
        assert score is None or isinstance(score, float)
        return (risk_last, score is None, -(score or 0.0), row["id"])  # type: ignore[return-value]

    return [row["id"] for row in sorted(filter(matches, sellers.values()), key=key)]  # type: ignore[misc]


FILTERS = [
    SellerFilters(status=status, category=category, ssm=ssm, at_risk_first=first)
    for status, category, ssm, first in product(
        [None, SellerStatus.active], [None, SellerCategory.recycler], [None, "ssm1"], [False, True]
    )
] + [
    SellerFilters(standing=Standing.good, at_risk_first=True),
    SellerFilters(status=SellerStatus.limited, at_risk_first=True),
]


@pytest.mark.parametrize("limit", [1, 7, 200])
def test_every_page_follows_the_ranking_order(engine: sa.Engine, limit: int) -> None:
    sellers = seed(engine)
    with Session(engine) as session:
        for filters in FILTERS:
            wanted = expected(sellers, filters)
            pages: list[uuid.UUID] = []
            for offset in range(0, len(wanted) + limit, limit):
                rows, total = list_sellers(session, filters, limit=limit, offset=offset)
                assert total == len(wanted), filters
                assert len(rows) <= limit
                pages += [row.id for row in rows]
            assert pages == wanted, filters


def test_counts_per_status_are_the_matching_sellers(engine: sa.Engine) -> None:
    sellers = seed(engine)
    with Session(engine) as session:
        for filters in FILTERS:
            matching = [sellers[i] for i in expected(sellers, filters)]
            wanted: dict[str, int] = {}
            for row in matching:
                wanted[str(row["status"])] = wanted.get(str(row["status"]), 0) + 1
            assert status_counts(session, filters) == wanted, filters
