"""Rules 5 in the seller workflow, on the time-skipping server: a document on file is asked for
again before it stops being valid, lapses into a limit, and a renewed file reviewed and
accepted lifts the limit; the same file sent twice opens one review."""

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from sellerflow.payloads import DocumentOnFile, RenewalSubmittedInput
from sellerflow.vocabulary import Decision, RenewalStatus, SellerStatus, TaskKind
from tests.idle import wait_for_idle
from tests.workflows.conftest import Harness
from workflows.seller import SellerWorkflow

ID = "legal_representative_id"


async def test_a_lapsed_document_limits_the_seller_until_its_renewal_is_accepted(
    harness: Harness,
) -> None:
    started = datetime.now(UTC)
    harness.rec.on_file = [DocumentOnFile(kind=ID, valid_until=started + timedelta(days=150))]
    handle = await harness.start()
    await harness.graduate(handle)  # 96 days on
    submitted = RenewalSubmittedInput(
        document_id="d1", kind=ID, valid_until=started + timedelta(days=3650)
    )
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(SellerWorkflow.submit_renewal, submitted)
    assert "not due for renewal" in str(refused.value.cause)

    await harness.skipper.fast_forward(handle, timedelta(days=26))  # day 122: asked
    assert "renewal_requested" in harness.rec.notices
    await harness.skipper.fast_forward(handle, timedelta(days=30))  # day 152: lapsed
    await wait_for_idle(handle)
    assert harness.rec.statuses[-1] == SellerStatus.limited
    assert [r.status for r in harness.rec.renewals] == [
        RenewalStatus.requested,
        RenewalStatus.lapsed,
    ]
    assert harness.rec.notices.count("renewal_reminder") == 1

    assert await handle.execute_update(SellerWorkflow.submit_renewal, submitted) == "limited"
    # The same file again (a retried request): answered, no second review.
    assert await handle.execute_update(SellerWorkflow.submit_renewal, submitted) == "limited"
    [review] = harness.opened(TaskKind.document_review)
    assert review.note == "d1"
    assert await harness.decide(handle, review.task_id, Decision.approve, "onboarding1") == "active"
    assert harness.rec.renewals[-1].status == RenewalStatus.renewed
    assert "renewal_accepted" in harness.rec.notices
    view = await handle.query(SellerWorkflow.view)
    assert view.status == SellerStatus.active
