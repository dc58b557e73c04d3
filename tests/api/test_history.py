"""History across a seller (API) and in the terminal (`python -m sellerflow.cli.history`)."""

import io
import json
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, Worker

from sellerflow import history
from sellerflow.cli import history as history_cli
from tests.conftest import Stack
from tests.journey import approved_seller, decide, staff_token, suspend, wait_for_task
from worker import ALL_WORKFLOWS


async def test_a_sellers_history_has_its_workflow_and_audit_rows(stack: Stack) -> None:
    http = stack.http
    app_id, seller_id, seller_auth = await approved_seller(http, stack.policy)
    ops1 = await staff_token(http, "ops1")
    await suspend(http, seller_id, ops1)
    appeal = await http.post(
        f"/v1/sellers/{seller_id}/appeals",
        headers=seller_auth,
        json={"root_cause": "a supplier batch", "actions": "recalled", "prevention": "checks"},
    )
    assert appeal.status_code == 201, appeal.text
    ssm1 = await staff_token(http, "ssm1")
    review = await wait_for_task(http, ssm1, "appeal_review", subject=seller_id)
    assert (await decide(http, ssm1, review["id"], "reinstate", comment="ok")).status_code == 200

    answer = await http.get(f"/v1/sellers/{seller_id}/history", headers=ops1)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["seller_id"], body["application_id"]) == (seller_id, app_id)
    assert body["workflow_id"] == f"seller-{seller_id}"
    assert body["runs"] == 1
    entries = [(e["kind"], e["text"], e["actor"]) for e in body["timeline"]]
    assert ("workflow", "workflow started: SellerWorkflow", None) in entries
    audit = [(text, actor) for kind, text, actor in entries if kind == "audit"]
    assert any(t.startswith("seller.suspend trial") and a == "ops1" for t, a in audit), audit
    assert any("counterfeit report" in t for t, _ in audit), audit
    assert any(t.startswith("appeal_review.reinstate") and a == "ssm1" for t, a in audit), audit
    times = [e["at"] for e in body["timeline"]]
    assert times == sorted(times)
    assert (
        await http.get(f"/v1/sellers/{seller_id}/history", headers=seller_auth)
    ).status_code in (
        401,
        403,
    )
    assert (await http.get(f"/v1/sellers/{uuid.uuid4()}/history", headers=ops1)).status_code == 404

    # The seller heard about each step, by real SMTP.
    subjects = [m["Subject"] for m in stack.mailbox.to("ada@refurb.example")]
    for words in ("launching phase has started", "appeal", "appeal has been decided"):
        assert any(words in s.lower() for s in subjects), subjects


async def test_history_cli_prints_the_timeline_and_exports_a_replayable_history(
    stack: Stack, tmp_path: Path
) -> None:
    app_id, _, _ = await approved_seller(stack.http, stack.policy)
    printed = io.StringIO()

    assert await history_cli.main([app_id], settings=stack.settings, out=printed) == 0

    lines = printed.getvalue().splitlines()
    assert lines[0].startswith(f"application {app_id}")
    assert any("workflow started: OnboardingWorkflow" in line for line in lines)
    assert any("approve by onboarding1" in line and "[onboarding1]" in line for line in lines)
    assert any("inbox" in line and "claimed" in line for line in lines)

    out = tmp_path / "onboarding.json"
    workflow_id = f"onboarding-{app_id}"
    code = await history_cli.main(
        ["--export", workflow_id, "--out", str(out)], settings=stack.settings, out=printed
    )
    assert code == 0
    saved = json.loads(out.read_text())
    assert set(saved) == {"events"}  # the format of tests/histories/*.json
    replayer = Replayer(workflows=ALL_WORKFLOWS, data_converter=pydantic_data_converter)
    replayed = await replayer.replay_workflow(WorkflowHistory.from_json(workflow_id, saved))
    assert replayed.replay_failure is None

    assert await history_cli.main([str(uuid.uuid4())], settings=stack.settings, out=printed) == 1
    assert await history_cli.main([], settings=stack.settings, out=printed) == 2


@workflow.defn(sandboxed=False)
class ContinuesTwice:
    @workflow.run
    async def run(self, run_number: int) -> int:
        await workflow.sleep(timedelta(milliseconds=1))
        if run_number < 3:
            workflow.continue_as_new(run_number + 1)
        return run_number


async def test_histories_span_every_run_across_continue_as_new(stack: Stack) -> None:
    queue, workflow_id = f"can-{uuid.uuid4()}", f"can-{uuid.uuid4()}"
    async with Worker(stack.temporal, task_queue=queue, workflows=[ContinuesTwice]):
        await stack.temporal.execute_workflow(
            ContinuesTwice.run, 1, id=workflow_id, task_queue=queue
        )

    runs = await history.fetch_histories(stack.temporal, [workflow_id])

    assert len(runs) == 3
    entries = history.merge(runs, [])
    texts = [e.text for e in entries]
    assert texts.count("continued as new (history kept short)") == 2
    assert texts[-1] == "workflow completed"
    # The seller card reads the newest runs only: the same last run, and nothing older.
    newest = await history.fetch_histories(stack.temporal, [workflow_id], newest_runs=1)
    assert [h.run_id for h in newest] == [runs[-1].run_id]
