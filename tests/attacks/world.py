"""What the attacks are made against: applicants with objects of their own, and a snapshot of
every record that a refused request must leave as it was."""

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, select

from sellerflow.models import (
    Appeal,
    AppealEvidence,
    Application,
    AuditLog,
    Document,
    OffboardingRequest,
    Seller,
    SellerAction,
    SellerNotice,
    Signature,
    StageChange,
    Task,
)
from tests.conftest import Stack
from tests.journey import create_application, upload
from tests.support.builders import add_seller_with_account
from tests.support.waiting import eventually

RECORDS: tuple[type[SQLModel], ...] = (
    Application,
    StageChange,
    Document,
    Signature,
    Task,
    Seller,
    SellerAction,
    Appeal,
    AppealEvidence,
    OffboardingRequest,
    SellerNotice,
    AuditLog,
)


# What each applicant page form carries besides its CSRF token (plausible values: a form refused
# for its token must not also fail for its content).
APPLICANT_FORMS: dict[str, dict[str, str]] = {
    "/apply/{application_id}/documents": {"kind": "proof_of_address", "content_type": "image/png"},
    "/apply/{application_id}/agreements/{kind}": {
        "version": "1",
        "sha256": "0" * 64,
        "signer_name": "Mallory",
        "signer_title": "CEO",
    },
    "/apply/{application_id}/withdraw": {"reason": "not mine"},
}


@dataclass
class Party:
    """An applicant: its application, an uploaded document, a seller record, and its token."""

    ids: dict[str, str]
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def party(stack: Stack, legal_name: str) -> Party:
    app_id, auth = await create_application(stack.http, legal_name=legal_name)
    uploaded = await upload(stack.http, app_id, auth, "company_registration_extract")
    assert uploaded.status_code == 200, uploaded.text
    with Session(stack.engine) as session:
        seller_id, account_id = add_seller_with_account(
            session, app_id, f"{uuid.uuid4()}@example.com", legal_name=legal_name
        )
        appeal = Appeal(seller_id=seller_id, root_cause="a", actions="b", prevention="c")
        evidence = AppealEvidence(
            seller_id=seller_id,
            filename="plan.pdf",
            content_type="application/pdf",
            declared_size=100,
            object_key=f"applications/{app_id}/appeals/{uuid.uuid4()}",
        )
        session.add_all([appeal, evidence])
        session.commit()
        appeal_id, evidence_id = str(appeal.id), str(evidence.id)
    await settled(stack, app_id, auth)
    ids = {
        "application_id": app_id,
        "document_id": uploaded.json()["document_id"],
        "seller_id": str(seller_id),
        "account_id": str(account_id),
        "appeal_id": appeal_id,
        "evidence_id": evidence_id,
        # Staff's objects under the seller: any id, the routes refuse applicants first.
        "request_id": str(uuid.uuid4()),
        "decision": "confirm",
        "kind": "terms",
    }
    return Party(ids, auth["Authorization"].removeprefix("Bearer "))


async def settled(stack: Stack, app_id: str, auth: dict[str, str]) -> None:
    """Until the workflow has entered the draft stage: it writes nothing more until a request."""

    async def with_deadline() -> bool:
        response = await stack.http.get(f"/v1/applications/{app_id}", headers=auth)
        return response.json()["deadline"] is not None

    await eventually(with_deadline, timeout=10, why="the workflow never set the deadline")


def snapshot(engine: sa.Engine) -> list[str]:
    """Every record a refused request might have changed, in a comparable form."""
    with Session(engine) as session:
        rows: list[Any] = []
        for table in RECORDS:
            rows += [f"{table.__name__} {row.model_dump()}" for row in session.exec(select(table))]
        return sorted(rows)
