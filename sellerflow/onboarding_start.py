"""Starting an application's onboarding workflow: one definition for the API, which starts it
when the application is created, and the sweeper, which starts it when that start was lost."""

import uuid

from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from sellerflow.payloads import OnboardingInput, OnboardingResult
from sellerflow.policy.model import Policy
from sellerflow.search_attributes import CATEGORY, COUNTRY, STAGE
from sellerflow.vocabulary import Stage
from workflows.onboarding import OnboardingWorkflow


def onboarding_workflow_id(application_id: uuid.UUID) -> str:
    return f"onboarding-{application_id}"


async def start_onboarding(
    client: Client,
    *,
    application_id: uuid.UUID,
    seller_category: str,
    country: str,
    policy: Policy,
    task_queue: str,
) -> WorkflowHandle[OnboardingWorkflow, OnboardingResult] | None:
    """Start the workflow once: a second start while it runs finds it (None when it has
    already finished: it is never started again)."""
    try:
        return await client.start_workflow(
            OnboardingWorkflow.run,
            OnboardingInput(application_id=str(application_id), policy=policy),
            id=onboarding_workflow_id(application_id),
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            # What the Temporal UI shows in lists: kind of seller and country, no personal data.
            static_summary=f"Onboarding: {seller_category} in {country}",
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(STAGE, Stage.draft.value),
                    SearchAttributePair(CATEGORY, seller_category),
                    SearchAttributePair(COUNTRY, country),
                ]
            ),
        )
    except WorkflowAlreadyStartedError:
        return None
