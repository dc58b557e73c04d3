"""What-if of a policy version: its rules evaluated over the stored order events as the real
evaluation evaluates them, next to the rules in force, without writing or signalling anything.

The same SQL (`scoring.kpi_columns`, one grouped scan per chunk of sellers for both rule sets at
once) and the same pure functions (`kpis.scorecard`, `kpis.standing`) as `scoring.score_chunk`,
over the same sellers (all but the offboarded, in id order)."""

import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from sellerflow.db import table_of
from sellerflow.models import OrderEvent, Seller
from sellerflow.policy.kpis import ScorecardEntry, scorecard, standing
from sellerflow.policy.model import Policy
from sellerflow.scoring import counts_of, kpi_columns, next_sellers, oldest_event
from sellerflow.vocabulary import SellerStatus, Standing

OE = table_of(OrderEvent).c
SELLER = table_of(Seller).c
# At most this many changed sellers are kept with their KPIs; all of them are counted.
MAX_CHANGES = 10_000
SIDES = ("current", "proposed")


def _columns(side: str, policy: Policy, as_of: datetime) -> list[Any]:
    """The evaluation's KPI columns relabelled `<side>:<kpi>__num`: two rule sets, one scan."""
    return [c.element.label(f"{side}:{c.name}") for c in kpi_columns(policy, as_of)]


def chunk_scorecards(
    conn: sa.Connection,
    current: Policy,
    proposed: Policy,
    as_of: datetime,
    after: uuid.UUID | None,
    limit: int,
) -> tuple[Sequence[Any], dict[uuid.UUID, dict[str, list[ScorecardEntry]]]]:
    """The next `limit` sellers after `after` and each one's scorecard under both rule sets."""
    sellers = next_sellers(
        conn, after, limit, SELLER.legal_name, SELLER.seller_category, SELLER.status
    )
    if not sellers:
        return [], {}
    counts = conn.execute(
        sa.select(
            OE.seller_id,
            *_columns("current", current, as_of),
            *_columns("proposed", proposed, as_of),
        )
        .where(
            OE.seller_id >= sellers[0].id,
            OE.seller_id <= sellers[-1].id,
            OE.placed_at >= oldest_event(as_of, current, proposed),
            OE.placed_at <= as_of,
        )
        .group_by(OE.seller_id)
    )
    by_seller = {row.seller_id: row._mapping for row in counts}
    cards = {}
    for seller in sellers:
        row = by_seller.get(seller.id)
        in_trial = seller.status == SellerStatus.trial.value
        cards[seller.id] = {
            side: scorecard(
                policy, counts_of(policy, row, f"{side}:") if row else {}, in_trial=in_trial
            )
            for side, policy in zip(SIDES, (current, proposed), strict=True)
        }
    return sellers, cards


def _kpis_that_change(before: list[ScorecardEntry], after: list[ScorecardEntry]) -> list[Any]:
    """The proposed entries whose status differs from the current one's (or that are new)."""
    old = {e.kpi: e for e in before}
    return [
        {
            **e.model_dump(mode="json"),
            "current_status": old[e.kpi].status.value if e.kpi in old else None,
        }
        for e in after
        if e.kpi not in old or old[e.kpi].status != e.status
    ]


def simulate(
    conn: sa.Connection,
    current: Policy,
    proposed: Policy,
    as_of: datetime,
    *,
    chunk_size: int,
    progress: Callable[[uuid.UUID], None] = lambda _: None,
) -> dict[str, Any]:
    """Standings under both rule sets, per category too, and each seller whose would change."""
    by_category: dict[str, dict[str, Counter[str]]] = defaultdict(
        lambda: {"current": Counter(), "proposed": Counter(), "changed": Counter()}
    )
    changes: list[dict[str, Any]] = []
    changed = scored = 0
    after: uuid.UUID | None = None
    while True:
        sellers, cards = chunk_scorecards(conn, current, proposed, as_of, after, chunk_size)
        if not sellers:
            break
        for seller in sellers:
            card = cards[seller.id]
            was, would = standing(card["current"]), standing(card["proposed"])
            category = by_category[seller.seller_category]
            category["current"][was.value] += 1
            category["proposed"][would.value] += 1
            if was == would:
                continue
            changed += 1
            category["changed"]["sellers"] += 1
            if len(changes) < MAX_CHANGES:
                changes.append(
                    {
                        "seller_id": str(seller.id),
                        "legal_name": seller.legal_name,
                        "category": seller.seller_category,
                        "from": was.value,
                        "to": would.value,
                        "kpis": _kpis_that_change(card["current"], card["proposed"]),
                    }
                )
        scored += len(sellers)
        after = sellers[-1].id
        progress(after)
    zero = {s.value: 0 for s in Standing}
    # The whole marketplace is the sum of its categories.
    standings = {
        side: sum((counts[side] for counts in by_category.values()), Counter[str]())
        for side in SIDES
    }
    return {
        "sellers": scored,
        "changed": changed,
        "changes_truncated": changed > len(changes),
        "standings": {side: {**zero, **standings[side]} for side in SIDES},
        "changes": changes,
        "by_category": {
            name: {
                "current": {**zero, **counts["current"]},
                "proposed": {**zero, **counts["proposed"]},
                "changed": counts["changed"]["sellers"],
            }
            for name, counts in sorted(by_category.items())
        },
    }
