"""How a workflow changes while thousands run: the in-review notice, added behind a patch.

`OnboardingWorkflow` tells the applicant when the application reaches the onboarding team. The
histories saved before that notice existed (`*-before-in-review-notice.json`) have no activity
at that point: the same change without its `workflow.patched` guard fails their replay, which is
what would happen to every application in flight when the new worker picks it up.

Then the baseline: a new run records one marker (`BASELINE_PATCH`) for all the changes before
it, instead of one marker and one search-attribute write each. The runs that started before it
(`*-before-baseline.json`) replay with their own markers, and would fail if the baseline were
taken without falling back to them.
"""

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, WorkflowReplayResult
from temporalio.workflow import NondeterminismError

from tests.histories import HISTORIES
from worker import ALL_WORKFLOWS
from workflows.common import (
    ANSWER_AT_ONCE_PATCH,
    BASELINE_PATCH,
    DELIVERY_PATCH,
    IN_REVIEW_PATCH,
    SUBMIT_KEPT_PATCH,
)

BEFORE = sorted(HISTORIES.glob("*-before-in-review-notice.json"))


async def replay(path: Path) -> WorkflowReplayResult:
    history = WorkflowHistory.from_json(path.stem, json.loads(path.read_text()))
    replayer = Replayer(workflows=ALL_WORKFLOWS, data_converter=pydantic_data_converter)
    return await replayer.replay_workflow(history, raise_on_replay_failure=False)


def notify_templates(path: Path) -> list[str]:
    """The templates of the `notify` activities a saved history scheduled, in order."""
    history = WorkflowHistory.from_json(path.stem, json.loads(path.read_text()))
    converter = pydantic_data_converter.payload_converter
    templates = []
    for event in history.events:
        scheduled = event.activity_task_scheduled_event_attributes
        if event.HasField("activity_task_scheduled_event_attributes") and (
            scheduled.activity_type.name == "notify"
        ):
            (inp,) = converter.from_payloads(scheduled.input.payloads, [dict])
            templates.append(inp["template"])
    return templates


def test_histories_from_before_the_change_are_kept() -> None:
    assert [p.name for p in BEFORE] == [
        "onboarding-approved-before-in-review-notice.json",
        "onboarding-changes-requested-before-in-review-notice.json",
    ]
    assert all("in_review" not in notify_templates(path) for path in BEFORE)
    assert "in_review" in notify_templates(HISTORIES / "onboarding-approved.json")


@pytest.mark.parametrize("path", BEFORE, ids=[p.stem for p in BEFORE])
async def test_the_change_without_its_patch_breaks_workflows_in_flight(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real: Callable[[str], bool] = workflow.patched
    monkeypatch.setattr(workflow, "patched", lambda id: id == IN_REVIEW_PATCH or real(id))
    result = await replay(path)
    assert isinstance(result.replay_failure, NondeterminismError)


@pytest.mark.parametrize("path", BEFORE, ids=[p.stem for p in BEFORE])
async def test_behind_its_patch_the_change_replays_the_old_histories(path: Path) -> None:
    result = await replay(path)
    assert result.replay_failure is None


# --- One marker for many changes: the baseline -----------------------------------------------

BEFORE_BASELINE = sorted(HISTORIES.glob("*-before-baseline.json"))


def patch_markers(path: Path) -> list[str]:
    """The patch ids a saved history recorded markers for, in order."""
    history = WorkflowHistory.from_json(path.stem, json.loads(path.read_text()))
    converter = pydantic_data_converter.payload_converter
    ids = []
    for event in history.events:
        marker = event.marker_recorded_event_attributes
        if (
            event.HasField("marker_recorded_event_attributes")
            and marker.marker_name == "core_patch"
        ):
            (data,) = converter.from_payloads(marker.details["patch-data"].payloads, [dict])
            ids.append(data["id"])
    return ids


def test_a_new_onboarding_records_one_marker_where_it_recorded_one_per_change() -> None:
    assert [p.name for p in BEFORE_BASELINE] == [
        "onboarding-approved-before-baseline.json",
        "onboarding-changes-requested-before-baseline.json",
        "onboarding-expired-before-baseline.json",
        "seller-trial-graduated-before-baseline.json",
    ]
    assert patch_markers(HISTORIES / "onboarding-approved-before-baseline.json") == [
        DELIVERY_PATCH,
        SUBMIT_KEPT_PATCH,
        IN_REVIEW_PATCH,
        ANSWER_AT_ONCE_PATCH,
    ]
    assert patch_markers(HISTORIES / "onboarding-approved.json") == [BASELINE_PATCH]


@pytest.mark.parametrize("path", BEFORE_BASELINE, ids=[p.stem for p in BEFORE_BASELINE])
async def test_the_baseline_taken_by_runs_that_predate_it_breaks_them(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without its fallback to each change's own marker, the baseline fails the runs in flight."""
    real: Callable[[str], bool] = workflow.patched
    monkeypatch.setattr(workflow, "patched", lambda id: id == BASELINE_PATCH or real(id))
    result = await replay(path)
    assert isinstance(result.replay_failure, NondeterminismError)


@pytest.mark.parametrize("path", BEFORE_BASELINE, ids=[p.stem for p in BEFORE_BASELINE])
async def test_runs_that_predate_the_baseline_replay_with_their_own_markers(path: Path) -> None:
    result = await replay(path)
    assert result.replay_failure is None
