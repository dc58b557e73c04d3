"""Saved histories of finished journeys, replayed on every run (tests/test_replay.py).

Re-record them after an intended, replay-safe workflow change with
`SELLERFLOW_RECORD_HISTORIES=1 make pytest`; a change that breaks replay of these files would
break workflows in flight and must be patched (`workflow.patched`) instead.
"""

import json
import os
from pathlib import Path

from tests.conftest import Stack

HISTORIES = Path(__file__).parent
# The journeys recorded (`name` of record_histories): `<journey>.json` is today's history,
# `<journey>-before-<change>.json` one kept from before a workflow change.
JOURNEYS = [
    "onboarding-approved",
    "onboarding-changes-requested",
    "onboarding-expired",
    "seller-trial-graduated",
]
# Besides the journeys: `seller-policy-switched.json`, a seller workflow a rollout switched (its
# `policy_changed` signal and the switch recorded), recorded by
# tests/workflows/test_rollout_workflow.py under the same variable.


async def record_histories(stack: Stack, workflow_id: str, *, name: str) -> None:
    if os.environ.get("SELLERFLOW_RECORD_HISTORIES") != "1":
        return
    history = await stack.temporal.get_workflow_handle(workflow_id).fetch_history()
    (HISTORIES / f"{name}.json").write_text(json.dumps(history.to_json_dict(), indent=1) + "\n")
