"""Who may not decide an appeal review (`services.tasks.TASK_WITH_CONTACT`): the author of the
seller's newest appealable notice before the review opened, and for an offboarding notice the
ops member who confirmed it, whether the workflow has answered that confirmation or not; an
older confirmation has no part in a later restriction. (Found by review: the first version
barred the confirmer of any earlier offboarding of the same author, and missed a confirmation
still waiting for its answer.)"""

import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from sellerflow.db import make_engine
from sellerflow.models import OffboardingRequest, SellerNotice, Task
from sellerflow.services.tasks import TASK_WITH_CONTACT
from sellerflow.vocabulary import NoticeDecision, Role, TaskKind
from tests.support.builders import seller_row

T0 = datetime(2026, 1, 1, tzinfo=UTC)
# A record to store for a seller, by its id.
Row = Callable[[uuid.UUID], SQLModel]
DAY = timedelta(days=1)


@pytest.fixture
def engine() -> Iterator[sa.Engine]:
    engine = make_engine(f"sqlite:///{Path(tempfile.mkdtemp()) / 'deciders.db'}")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


def notice(seller_id: uuid.UUID, decision: NoticeDecision, at: datetime) -> SellerNotice:
    return SellerNotice(
        seller_id=seller_id,
        idempotency_key=str(uuid.uuid4()),
        decision=decision,
        actor="ops1",
        issued_at=at,
    )


def review_deciders(engine: sa.Engine, rows: list[Row], opened: datetime) -> tuple[str, str | None]:
    """Store a seller, `rows` (built for its id) and an appeal review opened at `opened`; who
    decided the restriction and who confirmed it."""
    with Session(engine) as session:
        seller = seller_row(uuid.uuid4())
        session.add(seller)
        session.commit()
        for make in rows:
            session.add(make(seller.id))
        task = Task(
            id=uuid.uuid4(),
            kind=TaskKind.appeal_review,
            workflow_id="seller-x",
            seller_id=seller.id,
            role=Role.ssm,
            created_at=opened,
            due_at=opened + DAY,
        )
        session.add(task)
        session.commit()
        row = session.connection().execute(TASK_WITH_CONTACT, {"task": task.id}).one()
        return row.restricted_by, row.confirmed_by


def request(outcome: str | None) -> Row:
    return lambda seller_id: OffboardingRequest(
        seller_id=seller_id,
        requested_by="ops1",
        reason="copied listings",
        requested_at=T0,
        outcome=outcome,
        decided_by="ops2",
    )


def test_an_old_confirmation_has_no_part_in_a_later_limit(engine: sa.Engine) -> None:
    """ops1 asked an offboarding a year ago and ops2 confirmed it; the seller was reinstated.
    Today ops1 limits the seller: ops2 may decide the appeal against the limit."""
    rows = [
        request("confirmed"),
        lambda sid: notice(sid, NoticeDecision.offboard_notice, T0),
        lambda sid: notice(sid, NoticeDecision.limit, T0 + 300 * DAY),
    ]
    assert review_deciders(engine, rows, T0 + 301 * DAY) == ("ops1", None)


def test_a_confirmation_waiting_for_its_answer_still_bars_its_confirmer(
    engine: sa.Engine,
) -> None:
    """ops2 confirmed, the workflow gave the notice but its answer was lost (503): the request
    is still open with ops2 as its confirmer, who decided the notice too."""
    rows = [
        request(None),
        lambda sid: notice(sid, NoticeDecision.offboard_notice, T0 + timedelta(seconds=1)),
    ]
    assert review_deciders(engine, rows, T0 + DAY) == ("ops1", "ops2")


def test_a_cancelled_request_bars_nobody(engine: sa.Engine) -> None:
    rows = [
        request("cancelled"),
        lambda sid: notice(sid, NoticeDecision.offboard_notice, T0 + timedelta(seconds=1)),
    ]
    assert review_deciders(engine, rows, T0 + DAY) == ("ops1", None)
