"""How a workflow changes while thousands run: the in-review notice, added behind a patch.

`OnboardingWorkflow` tells the applicant when the application reaches the onboarding team. The
histories saved before that notice existed (`*-before-in-review-notice.json`) have no activity
at that point: the same change without its `workflow.patched` guard fails their replay, which is
what would happen to every application in flight when the new worker picks it up.
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
from workflows.common import IN_REVIEW_PATCH

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
