"""A Hypothesis state machine over policy versions (`services.policies`, `services.policy_rollouts`,
the rollout's switch in `activities.rollout`): ops members propose, approve and schedule
versions in any order, and pending rollouts take effect.

After every step: exactly one version is active, at most one is scheduled; a version moves only
forward along draft → scheduled → active → retired; nobody approves what they proposed; only an
approved draft is ever scheduled; every refusal leaves the versions as they were, and the
configured file never takes the active version back after a rollout.

Runs on SQLite (the rules are the same SQL on PostgreSQL)."""

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlmodel import Session, SQLModel, delete, select
from temporalio.client import Client

from activities.rollout import RolloutActivities
from sellerflow.db import make_engine
from sellerflow.errors import Conflict, Forbidden, NotFound
from sellerflow.models import PolicyRollout, PolicyVersion
from sellerflow.policy.model import load_policy
from sellerflow.rollout_payloads import ActivateVersionInput, FinishRolloutInput
from sellerflow.services import policies, policy_rollouts
from sellerflow.services.policies import BUILT_IN
from sellerflow.vocabulary import PolicyStatus

ENGINE = make_engine(f"sqlite:///{Path(tempfile.mkdtemp()) / 'versions.db'}")
SQLModel.metadata.create_all(ENGINE)
CONFIGURED = load_policy("default")
OPS = ["ops1", "ops2"]
NAMES = ["v1", "v2", "v3", "v4"]
ORDER = [PolicyStatus.draft, PolicyStatus.scheduled, PolicyStatus.active, PolicyStatus.retired]


class StartsNothing:
    """Temporal as far as a rollout's start goes: the start is accepted."""

    async def start_workflow(self, *args: Any, **kwargs: Any) -> None:
        return None


class PolicyVersions(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        with Session(ENGINE) as session:
            session.exec(delete(PolicyRollout))  # type: ignore[call-overload]
            session.exec(delete(PolicyVersion))  # type: ignore[call-overload]
            session.commit()
            policies.seed_built_in(session, CONFIGURED)
        self.seen: dict[str, list[PolicyStatus]] = {}
        self.proposers: dict[str, str] = {}
        self.rolled_out = False
        self.remember()

    def statuses(self) -> dict[str, PolicyVersion]:
        with Session(ENGINE) as session:
            policies.seed_built_in(session, CONFIGURED)  # as every request does
            return {row.version: row for row in session.exec(select(PolicyVersion))}

    def remember(self) -> None:
        for version, row in self.statuses().items():
            history = self.seen.setdefault(version, [])
            if not history or history[-1] != row.status:
                history.append(row.status)

    @rule(name=st.sampled_from(NAMES), proposer=st.sampled_from(OPS))
    def propose(self, name: str, proposer: str) -> None:
        rules = {**CONFIGURED.model_dump(mode="json"), "version": name}
        before = self.statuses()
        with Session(ENGINE) as session:
            try:
                policies.propose(session, CONFIGURED, rules, proposer)
                self.proposers[name] = proposer
            except Conflict:
                assert name in before
        self.remember()

    @rule(name=st.sampled_from(NAMES), approver=st.sampled_from(OPS))
    def approve(self, name: str, approver: str) -> None:
        before = self.statuses().get(name)
        with Session(ENGINE) as session:
            try:
                policies.approve(session, CONFIGURED, name, approver)
            except Forbidden:
                assert before is not None
                assert before.proposed_by == approver
            except Conflict:
                assert before is not None
                assert before.status != PolicyStatus.draft or before.approved_by is not None
            except NotFound:
                assert before is None
        self.remember()

    @rule(name=st.sampled_from([*NAMES, "demo-2026-12-08.1"]), requester=st.sampled_from(OPS))
    def schedule(self, name: str, requester: str) -> None:
        before = self.statuses().get(name)
        pending = any(r.status == PolicyStatus.scheduled for r in self.statuses().values())
        effective_at = datetime.now(UTC) + timedelta(days=16)
        with Session(ENGINE) as session:
            try:
                asyncio.run(
                    policy_rollouts.schedule(
                        session,
                        cast(Client, StartsNothing()),
                        CONFIGURED,
                        name,
                        effective_at,
                        requester,
                        "queue",
                    )
                )
                assert before is not None
                assert before.status == PolicyStatus.draft
                assert before.approved_by is not None
                assert not pending
            except Conflict:
                assert before is not None
                assert before.status != PolicyStatus.draft or before.approved_by is None or pending
            except NotFound:
                assert before is None
        self.remember()

    @rule()
    def take_effect(self) -> None:
        with Session(ENGINE) as session:
            pending = policy_rollouts.pending_rollout(session)
        if pending is None:
            return
        activities = RolloutActivities(ENGINE)
        now = datetime.now(UTC)
        for _ in range(2):  # a retried activation changes nothing
            activities.activate_version(ActivateVersionInput(version=pending.version, at=now))
        activities.finish_rollout(FinishRolloutInput(version=pending.version, switched=0, at=now))
        self.rolled_out = True
        self.remember()

    @invariant()
    def one_active_at_most_one_scheduled(self) -> None:
        statuses = [row.status for row in self.statuses().values()]
        assert statuses.count(PolicyStatus.active) == 1
        assert statuses.count(PolicyStatus.scheduled) <= 1

    @invariant()
    def versions_only_move_forward(self) -> None:
        for version, history in self.seen.items():
            steps = [ORDER.index(status) for status in history]
            assert steps == sorted(steps), (version, history)

    @invariant()
    def a_second_person_approved_every_version_in_force(self) -> None:
        for row in self.statuses().values():
            if row.proposed_by == BUILT_IN:
                continue
            assert row.approved_by != row.proposed_by
            if row.status != PolicyStatus.draft:
                assert row.approved_by is not None, row.version

    @invariant()
    def the_file_does_not_take_back_a_rolled_out_version(self) -> None:
        active = [v for v, row in self.statuses().items() if row.status == PolicyStatus.active]
        if not self.rolled_out:
            assert active == [CONFIGURED.version]
        else:
            assert active != [CONFIGURED.version]


TestPolicyVersions = PolicyVersions.TestCase
TestPolicyVersions.settings = settings(
    max_examples=40,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
