"""How a workflow changes while thousands run: the in-review notice, added behind a patch.

`OnboardingWorkflow` tells the applicant when the application reaches the onboarding team. The
histories saved before that notice existed (`*-before-in-review-notice.json`) have no activity
at that point: the same change without its `workflow.patched` guard fails their replay, which is
what would happen to every application in flight when the new worker picks it up.

Then the baselines: a new run records one marker (`BASELINE_2_PATCH`) for all the changes
before it, instead of one marker and one search-attribute write each. The runs that started
before a baseline (`*-before-baseline.json` before the first, `*-before-one-transaction.json`
before the second) replay with the markers they recorded, and would fail if the baseline were
taken without falling back to them.

Last, one transaction per move (`ONE_TRANSACTION_PATCH`): a plan of its own, with 8 activities
where there were 20; the runs from before it replay the old plan.
"""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.api.common.v1 import Payloads
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, WorkflowReplayResult
from temporalio.workflow import NondeterminismError

from tests.histories import HISTORIES, JOURNEYS
from worker import ALL_WORKFLOWS
from workflows.common import (
    ANSWER_AT_ONCE_PATCH,
    APPEAL_ANY_PATCH,
    APPEAL_HOLDS_PATCH,
    BASELINE_2_PATCH,
    BASELINE_PATCH,
    DELIVERY_PATCH,
    IN_REVIEW_PATCH,
    ONE_TRANSACTION_PATCH,
    RENEWALS_PATCH,
    SUBMIT_KEPT_PATCH,
)

BEFORE = sorted(HISTORIES.glob("*-before-in-review-notice.json"))


async def replay(path: Path) -> WorkflowReplayResult:
    history = WorkflowHistory.from_json(path.stem, json.loads(path.read_text()))
    replayer = Replayer(workflows=ALL_WORKFLOWS, data_converter=pydantic_data_converter)
    return await replayer.replay_workflow(history, raise_on_replay_failure=False)


def payloads_of(path: Path, pick: Callable[[HistoryEvent], Payloads | None]) -> list[Any]:
    """The first payload of each event `pick` takes from a saved history, decoded, in order."""
    history = WorkflowHistory.from_json(path.stem, json.loads(path.read_text()))
    converter = pydantic_data_converter.payload_converter
    picked = [payloads for payloads in map(pick, history.events) if payloads is not None]
    return [converter.from_payloads(p.payloads, [dict])[0] for p in picked]


def notify_templates(path: Path) -> list[str]:
    """The templates of the notices a saved history stored, in order: by a `notify` activity,
    or as part of a move (`transition`)."""

    def scheduled(event: HistoryEvent) -> Payloads | None:
        attributes = event.activity_task_scheduled_event_attributes
        if event.HasField("activity_task_scheduled_event_attributes") and (
            attributes.activity_type.name in ("notify", "transition")
        ):
            return attributes.input
        return None

    return [
        notice["template"]
        for inp in payloads_of(path, scheduled)
        for notice in (inp.get("notices", []) if "notices" in inp else [inp])
    ]


def test_histories_from_before_the_change_are_kept() -> None:
    assert [p.name for p in BEFORE] == [
        "onboarding-approved-before-in-review-notice.json",
        "onboarding-changes-requested-before-in-review-notice.json",
    ]
    assert all("in_review" not in notify_templates(path) for path in BEFORE)
    assert "in_review" in notify_templates(HISTORIES / "onboarding-approved.json")


# --- One marker for many changes: the baseline -----------------------------------------------

BEFORE_BASELINE = sorted(HISTORIES.glob("*-before-baseline.json"))


def patch_markers(path: Path) -> list[str]:
    """The patch ids a saved history recorded markers for, in order."""

    def patch(event: HistoryEvent) -> Payloads | None:
        marker = event.marker_recorded_event_attributes
        if event.HasField("marker_recorded_event_attributes") and (
            marker.marker_name == "core_patch"
        ):
            return marker.details["patch-data"]
        return None

    return [data["id"] for data in payloads_of(path, patch)]


def test_a_new_onboarding_records_one_marker_where_it_recorded_one_per_change() -> None:
    assert [p.name for p in BEFORE_BASELINE] == [
        f"{journey}-before-baseline.json" for journey in JOURNEYS
    ]
    assert patch_markers(HISTORIES / "onboarding-approved-before-baseline.json") == [
        DELIVERY_PATCH,
        SUBMIT_KEPT_PATCH,
        IN_REVIEW_PATCH,
        ANSWER_AT_ONCE_PATCH,
    ]
    before_second = HISTORIES / "onboarding-approved-before-one-transaction.json"
    assert patch_markers(before_second) == [BASELINE_PATCH]
    assert patch_markers(HISTORIES / "onboarding-approved.json") == [BASELINE_2_PATCH]
    before_appeals = HISTORIES / "seller-trial-graduated-before-appeal-any.json"
    assert patch_markers(before_appeals) == [BASELINE_2_PATCH]
    # A seller run records the rules it runs under first, newest first (then the baseline).
    before_renewals = HISTORIES / "seller-trial-graduated-before-renewals.json"
    assert patch_markers(before_renewals) == [APPEAL_ANY_PATCH, BASELINE_2_PATCH]
    assert patch_markers(HISTORIES / "seller-trial-graduated.json") == [
        RENEWALS_PATCH,
        APPEAL_HOLDS_PATCH,
        APPEAL_ANY_PATCH,
        BASELINE_2_PATCH,
    ]


BEFORE_ONE_TRANSACTION = sorted(HISTORIES.glob("*-before-one-transaction.json"))


def activity_names(path: Path) -> list[str]:
    history = WorkflowHistory.from_json(path.stem, json.loads(path.read_text()))
    return [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
    ]


def test_a_new_onboarding_writes_each_move_in_one_activity() -> None:
    assert [p.name for p in BEFORE_ONE_TRANSACTION] == [
        f"{journey}-before-one-transaction.json" for journey in JOURNEYS
    ]
    before = activity_names(HISTORIES / "onboarding-approved-before-one-transaction.json")
    after = activity_names(HISTORIES / "onboarding-approved.json")
    assert "transition" not in before
    assert len(before) == 20
    assert set(after) == {"transition", "deliver_notification"}
    assert len(after) == 8
    # The same notices in the same order; the seller's trial_started is now stored with the
    # account (the seller workflow used to store it).
    assert notify_templates(HISTORIES / "onboarding-approved.json") == [
        *notify_templates(HISTORIES / "onboarding-approved-before-one-transaction.json"),
        "trial_started",
    ]


# Each change forced on, with the histories recorded before it.
CHANGES = (
    [(IN_REVIEW_PATCH, path) for path in BEFORE]
    + [(BASELINE_PATCH, path) for path in BEFORE_BASELINE]
    + [(BASELINE_2_PATCH, path) for path in BEFORE_ONE_TRANSACTION]
    + [(ONE_TRANSACTION_PATCH, path) for path in BEFORE_ONE_TRANSACTION[:3]]
)
IDS = [path.stem for _, path in CHANGES]


@pytest.mark.parametrize(("patch_id", "path"), CHANGES, ids=IDS)
async def test_a_change_without_its_patch_breaks_workflows_in_flight(
    patch_id: str, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The in-review notice unguarded, or the baseline taken by runs that predate it (with no
    fallback to their own markers): either fails the histories already running."""
    real: Callable[[str], bool] = workflow.patched
    monkeypatch.setattr(workflow, "patched", lambda id: id == patch_id or real(id))
    result = await replay(path)
    assert isinstance(result.replay_failure, NondeterminismError)


@pytest.mark.parametrize("path", [path for _, path in CHANGES], ids=IDS)
async def test_behind_its_patch_a_change_replays_the_old_histories(path: Path) -> None:
    result = await replay(path)
    assert result.replay_failure is None
