"""Replays the saved histories with today's workflow code: an incompatible change fails here."""

import json

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.histories import HISTORIES, JOURNEYS
from worker import ALL_WORKFLOWS

SAVED = sorted(HISTORIES.glob("*.json"))


def test_histories_are_saved() -> None:
    names = {path.stem for path in SAVED}
    assert set(JOURNEYS) <= names


@pytest.mark.parametrize("path", SAVED, ids=[p.stem for p in SAVED])
async def test_replay(path: object) -> None:
    assert hasattr(path, "read_text")
    history = WorkflowHistory.from_json(path.stem, json.loads(path.read_text()))  # type: ignore[attr-defined]
    replayer = Replayer(workflows=ALL_WORKFLOWS, data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
