"""Applications seeded for the speed benchmarks, and started as the API starts them.

The rows `POST /v1/applications`, the uploads and the signatures write: no workflow ever reads
S3 or the files, so the workflow and its activities see what they see after a journey through
the API.
"""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel
from temporalio.client import WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from bench.stack import BenchStack
from sellerflow.models import Application, Document, Signature
from sellerflow.onboarding_start import onboarding_workflow_id as workflow_id
from sellerflow.payloads import OnboardingInput
from sellerflow.policy.model import Policy
from sellerflow.policy.requirements import required_agreements, required_documents
from sellerflow.search_attributes import CATEGORY, COUNTRY, STAGE
from sellerflow.templating import current_agreement
from sellerflow.vocabulary import SellerCategory, Stage
from workflows.onboarding import OnboardingWorkflow

APPLICATION = {
    "legal_name": "Refurb Works GmbH",
    "seller_category": SellerCategory.refurbishing_factory.value,
    "country": "DE",
    "registration_number": "HRB 123456",
    "vat_number": "DE136695976",
    "contact_name": "Ada Example",
    "contact_email": "ada@refurb.example",
    "product_categories": ["smartphones", "laptops"],
}


def seed_applications(engine: sa.Engine, policy: Policy, count: int) -> list[uuid.UUID]:
    """`count` complete applications in `draft`: every document uploaded, every agreement signed.

    The same rows `POST /v1/applications`, the uploads and the signatures write.
    """
    category = SellerCategory(str(APPLICATION["seller_category"]))
    kinds = required_documents(policy, category, "DE") + list(policy.requirements.eventually_due)
    agreements = {kind: current_agreement(kind) for kind in required_agreements(policy, "DE")}
    today, now = date.today(), datetime.now(UTC)
    ids = [uuid.uuid4() for _ in range(count)]
    apps, docs, signatures = [], [], []
    for app_id in ids:
        apps.append(
            {
                **APPLICATION,
                "id": app_id,
                "policy_version": policy.version,
                "email_confirmed_at": now,
            }
        )
        for kind in kinds:
            doc_id = uuid.uuid4()
            docs.append(
                {
                    "id": doc_id,
                    "application_id": app_id,
                    "kind": kind,
                    "filename": f"{kind}.pdf",
                    "content_type": "application/pdf",
                    "declared_size": 2100,
                    "object_key": f"applications/{app_id}/documents/{doc_id}",
                    "status": "uploaded",
                    "stored_size": 2100,
                    "sha256": "0" * 64,
                    "issued_on": today - timedelta(days=10),
                    "expires_on": today + timedelta(days=3650),
                    "uploaded_at": now,
                }
            )
        for kind, agreement in agreements.items():
            signatures.append(
                {
                    "application_id": app_id,
                    "kind": kind,
                    "version": agreement.version,
                    "sha256": agreement.sha256,
                    "signer_name": "Ada Example",
                    "signer_title": "Managing director",
                    "archive_key": f"applications/{app_id}/agreements/{kind}",
                }
            )
    with engine.begin() as conn:
        for model, rows in ((Application, apps), (Document, docs), (Signature, signatures)):
            table = SQLModel.metadata.tables[str(model.__tablename__)]
            conn.execute(sa.insert(table), [with_defaults(table, row) for row in rows])
    return ids


def with_defaults(table: sa.Table, row: dict[str, Any]) -> dict[str, Any]:
    """Fill the Python-side defaults (ids, timestamps, JSON lists) a Core insert skips."""
    model_defaults = {
        "id": uuid.uuid4(),
        "stage": "draft",
        "stage_entered_at": datetime.now(UTC),
        "created_at": datetime.now(UTC),
        "updated_at": datetime.now(UTC),
        "signed_at": datetime.now(UTC),
    }
    return {
        **{k: v for k, v in model_defaults.items() if k in table.c and k not in row},
        **row,
    }


async def start_onboarding(
    stack: BenchStack,
    app_id: uuid.UUID,
    workflow: type[OnboardingWorkflow] = OnboardingWorkflow,
) -> WorkflowHandle[OnboardingWorkflow, Any]:
    """Start the workflow exactly as `POST /v1/applications` does (`workflow`: the onboarding
    workflow or a subclass, such as `bench.step_by_step`'s)."""
    return await stack.client.start_workflow(
        workflow.run,
        OnboardingInput(application_id=str(app_id), policy=stack.policy),
        id=workflow_id(app_id),
        task_queue=stack.settings.temporal_task_queue,
        static_summary=f"Onboarding: {APPLICATION['seller_category']} in DE",
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(STAGE, Stage.draft.value),
                SearchAttributePair(CATEGORY, str(APPLICATION["seller_category"])),
                SearchAttributePair(COUNTRY, "DE"),
            ]
        ),
    )
