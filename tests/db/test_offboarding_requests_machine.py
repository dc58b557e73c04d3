"""A Hypothesis state machine over the offboarding requests (`services.sellers`): ops members ask,
confirm and cancel in any order, with request keys repeated, while the seller's workflow answers,
refuses (a notice already runs), or is slow to answer before or after it applied the offboarding.

After every step: at most one open request per seller; nobody confirms what they asked; an
outcome, once given, never changes; the workflow applied an offboarding only for a request
confirmed or whose confirmation was sent (never for one cancelled or refused), and each at most
once; a confirmed request was applied.

Runs on SQLite only (the partial unique index is the same on PostgreSQL, migration 0015)."""

import asyncio
import tempfile
import uuid
from pathlib import Path
from typing import Any, Literal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlmodel import Session, SQLModel, col, delete, select

from sellerflow.db import make_engine
from sellerflow.errors import Conflict, NotFound, ServiceUnavailable
from sellerflow.models import OffboardingRequest, Seller
from sellerflow.principal import Principal
from sellerflow.services import sellers
from sellerflow.vocabulary import SellerActionKind
from tests.support.builders import seller_row

ENGINE = make_engine(f"sqlite:///{Path(tempfile.mkdtemp()) / 'offboarding.db'}")
SQLModel.metadata.create_all(ENGINE)
OPS = ["ops1", "ops2", "ops3"]
Mode = Literal["answers", "down_before", "down_after"]


def ops(username: str) -> Principal:
    return Principal(subject=username, roles=frozenset({"ops"}))


class FakeWorkflow:
    """The seller workflow's side of `manual_action`, as its validator and handler behave: the
    same request id again is answered (seen), an offboarding while a notice runs is refused."""

    def __init__(self) -> None:
        self.mode: Mode = "answers"
        self.notice_runs = False
        # Request id of each offboarding applied -> the request key it came with.
        self.applied: dict[str, str] = {}

    async def manual_action(
        self,
        temporal: object,
        staff: Principal,
        seller: Seller,
        *,
        action: SellerActionKind,
        reason: str,
        fraud: bool,
        request_key: str,
        actor: str | None = None,
    ) -> str:
        assert action == SellerActionKind.offboard
        assert not fraud
        request_id = str(sellers._request_id(seller.id, actor or staff.subject, request_key))
        if request_id in self.applied:
            return "trial"
        if self.mode == "down_before":
            raise ServiceUnavailable("the seller's workflow did not answer")
        if self.notice_runs:
            raise Conflict("the offboarding notice already runs")
        assert request_key not in self.applied.values(), "one request applied twice"
        self.applied[request_id] = request_key
        self.notice_runs = True
        if self.mode == "down_after":
            raise ServiceUnavailable("the seller's workflow did not answer")
        return "trial"


class OffboardingRequests(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        with Session(ENGINE) as session:
            session.exec(delete(OffboardingRequest))  # type: ignore[call-overload]
            session.exec(delete(Seller))  # type: ignore[call-overload]
            seller = seller_row(uuid.uuid4())
            session.add(seller)
            session.commit()
            self.seller_id = seller.id
        self.workflow = FakeWorkflow()
        self.known: list[uuid.UUID] = []
        self.outcomes: dict[uuid.UUID, str] = {}

    def _call(self, action: Any) -> None:
        with Session(ENGINE) as session:
            seller = session.get(Seller, self.seller_id)
            assert seller is not None
            try:
                action(session, seller)
            except (Conflict, NotFound, ServiceUnavailable):
                session.rollback()

    def _pick(self, index: int) -> uuid.UUID:
        return self.known[index % len(self.known)] if self.known else uuid.uuid4()

    @rule(who=st.sampled_from(OPS), key=st.sampled_from(["a", "b", "c"]))
    def ask(self, who: str, key: str) -> None:
        def action(session: Session, seller: Seller) -> None:
            asked = sellers.request_offboarding(session, ops(who), seller, "copied listings", key)
            if asked.id not in self.known:
                self.known.append(asked.id)

        self._call(action)

    @rule(who=st.sampled_from(OPS), index=st.integers(0, 5))
    def confirm(self, who: str, index: int) -> None:
        request_id = self._pick(index)

        def action(session: Session, seller: Seller) -> None:
            original = sellers.manual_action
            sellers.manual_action = self.workflow.manual_action  # type: ignore[assignment]
            try:
                asyncio.run(
                    sellers.confirm_offboarding(session, object(), ops(who), seller, request_id)  # type: ignore[arg-type]
                )
            finally:
                sellers.manual_action = original  # type: ignore[assignment]

        self._call(action)

    @rule(who=st.sampled_from(OPS), index=st.integers(0, 5))
    def cancel(self, who: str, index: int) -> None:
        request_id = self._pick(index)

        def action(session: Session, seller: Seller) -> None:
            sellers.cancel_offboarding(session, ops(who), seller, request_id)

        self._call(action)

    @rule(mode=st.sampled_from(["answers", "down_before", "down_after"]))
    def workflow_answers(self, mode: Mode) -> None:
        self.workflow.mode = mode

    @rule()
    def notice_withdrawn(self) -> None:
        """The notice ended in a reinstatement: a new offboarding may be given."""
        self.workflow.notice_runs = False

    # --- invariants ------------------------------------------------------------------------

    def _requests(self) -> list[OffboardingRequest]:
        with Session(ENGINE) as session:
            rows = session.exec(
                select(OffboardingRequest).order_by(col(OffboardingRequest.requested_at))
            ).all()
            return list(rows)

    @invariant()
    def one_open_request_at_most(self) -> None:
        assert len([r for r in self._requests() if r.outcome is None]) <= 1

    @invariant()
    def nobody_confirms_what_they_asked(self) -> None:
        for asked in self._requests():
            assert asked.decided_by != asked.requested_by or asked.outcome == "cancelled"
            if asked.outcome in ("confirmed", "refused"):
                assert asked.decided_by is not None

    @invariant()
    def outcomes_are_final(self) -> None:
        for asked in self._requests():
            if asked.id in self.outcomes:
                assert asked.outcome == self.outcomes[asked.id], asked
            elif asked.outcome is not None:
                self.outcomes[asked.id] = asked.outcome

    @invariant()
    def applied_only_when_confirmed(self) -> None:
        by_key = {f"offboarding-request:{r.id}": r for r in self._requests()}
        for key in self.workflow.applied.values():
            asked = by_key[key]
            sent = asked.outcome is None and asked.decided_by is not None
            assert asked.outcome == "confirmed" or sent, asked
        applied = set(self.workflow.applied.values())
        for key, asked in by_key.items():
            if asked.outcome == "confirmed":
                assert key in applied, f"{asked.id} confirmed but never applied"
            if asked.outcome in ("cancelled", "refused"):
                assert key not in applied, f"{asked.id} {asked.outcome} but applied"


TestOffboardingRequests = OffboardingRequests.TestCase
TestOffboardingRequests.settings = settings(
    max_examples=150,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_a_cancel_that_read_before_the_confirmation_loses(monkeypatch: Any) -> None:
    """Interleaved: a cancel reads the request (not yet confirmed), another ops member confirms
    it and the workflow applies it, then the cancel writes. The write is conditional: it
    changes nothing and the request stays confirmed. (Found by review: the check and the write
    were two steps, and the cancel overwrote the confirmation.)"""
    with Session(ENGINE) as session:
        session.exec(delete(OffboardingRequest))  # type: ignore[call-overload]
        seller = seller_row(uuid.uuid4())
        session.add(seller)
        session.commit()
        seller_id = seller.id
        asked = sellers.request_offboarding(session, ops("ops1"), seller, "copied listings", "k")
        request_id = asked.id
    workflow = FakeWorkflow()
    monkeypatch.setattr(sellers, "manual_action", workflow.manual_action)
    with Session(ENGINE) as cancelling:
        read = sellers._pending(cancelling, seller_of(cancelling, seller_id), request_id)
        assert read.decided_by is None  # the cancel's check passes
        with Session(ENGINE) as confirming:
            asyncio.run(
                sellers.confirm_offboarding(
                    confirming,
                    object(),  # type: ignore[arg-type]
                    ops("ops2"),
                    seller_of(confirming, seller_id),
                    request_id,
                )
            )
        assert not sellers._close(cancelling, read, ops("ops3"), "cancelled", unsent_only=True)
    with Session(ENGINE) as session:
        stored = session.get(OffboardingRequest, request_id)
        assert stored is not None
        assert (stored.outcome, stored.decided_by) == ("confirmed", "ops2")
    assert len(workflow.applied) == 1


def seller_of(session: Session, seller_id: uuid.UUID) -> Seller:
    found = session.get(Seller, seller_id)
    assert found is not None
    return found
