"""Application records: stage changes, automated checks, verdicts and account setup."""

import uuid

import sqlalchemy as sa
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from sellerflow import audit
from sellerflow.db import session_scope
from sellerflow.models import Application, Document, Seller, StageChange, utcnow
from sellerflow.payloads import (
    ApplyVerdictsInput,
    Problem,
    SetStageInput,
    SetupAccountInput,
    SetupAccountResult,
    VerifyApplicationInput,
    VerifyApplicationResult,
)
from sellerflow.policy.requirements import (
    document_date_error,
    required_agreements,
    required_documents,
    vat_format_error,
)
from sellerflow.records import current_versions, latest_documents, signed_versions
from sellerflow.registry import CompanyRegistry, RegistryAnswer
from sellerflow.storage import ObjectStore, StoreUnavailable, check_document
from sellerflow.vocabulary import DocumentStatus, SellerCategory, SellerStatus

SELLER_NAMESPACE = uuid.UUID("0b6f8a52-8f0e-4e0c-a6c1-7f3c5d2e9a10")

READY = {
    DocumentStatus.uploaded.value,
    DocumentStatus.verified.value,
    DocumentStatus.accepted.value,
}


def seller_id_for(application_id: str) -> uuid.UUID:
    """One seller per application, the same id however often setup is retried."""
    return uuid.uuid5(SELLER_NAMESPACE, application_id)


def _application(session: Session, application_id: str) -> Application:
    app = session.get(Application, uuid.UUID(application_id))
    if app is None:
        raise ApplicationError(f"no application {application_id}", type="InvalidInput")
    return app


class ApplicationActivities:
    def __init__(
        self, engine: sa.Engine, registry: CompanyRegistry, store: ObjectStore | None = None
    ) -> None:
        self.engine, self.registry, self.store = engine, registry, store

    @activity.defn
    def set_stage(self, inp: SetStageInput) -> None:
        key = f"{inp.application_id}:{inp.stage.value}:{inp.at.isoformat()}"
        with session_scope(self.engine) as session:
            if session.exec(
                select(StageChange.id).where(StageChange.idempotency_key == key)
            ).first():
                return
            app = _application(session, inp.application_id)
            before = app.stage
            app.stage, app.stage_entered_at, app.updated_at = inp.stage.value, inp.at, utcnow()
            app.deadline_at = inp.deadline
            session.add(
                StageChange(
                    application_id=app.id,
                    stage=inp.stage.value,
                    entered_at=inp.at,
                    idempotency_key=key,
                )
            )
            audit.record(
                session,
                key=f"stage:{key}",
                actor=inp.actor,
                action="application.stage",
                subject_type="application",
                subject_id=str(app.id),
                before=before,
                after=inp.stage.value,
                reason=inp.reason,
                at=inp.at,
            )

    @activity.defn
    def verify_application(self, inp: VerifyApplicationInput) -> VerifyApplicationResult:
        """Automated checks: every document present and fresh, VAT format, agreements, registry."""
        policy, today = inp.policy, inp.as_of.date()
        problems: list[Problem] = []
        try:
            refused = self._check_pending_files(inp.application_id, policy.documents.max_bytes)
        except StoreUnavailable as err:
            # Unchecked, not refused: the activity retries with backoff until S3 answers. The
            # botocore cause chain is left out: the server truncates failures above a few KB.
            raise ApplicationError(str(err), type="StoreUnavailable") from None
        with session_scope(self.engine) as session:
            app = _application(session, inp.application_id)
            docs = latest_documents(session, app.id)
            category = SellerCategory(app.seller_category)
            for kind in required_documents(policy, category, app.country):
                doc = docs.get(kind)
                if doc is None or doc.status not in READY:
                    problems.append(
                        refused.get(kind)
                        or Problem(code=kind, error_code="missing", reason="not uploaded")
                    )
                    continue
                if doc.status == DocumentStatus.accepted.value:
                    continue
                error = document_date_error(
                    policy, kind, issued_on=doc.issued_on, expires_on=doc.expires_on, today=today
                )
                if error:
                    doc.status, (doc.error_code, doc.error_reason) = (
                        DocumentStatus.refused.value,
                        error,
                    )
                    problems.append(Problem(code=kind, error_code=error[0], reason=error[1]))
                else:
                    doc.status = DocumentStatus.verified.value
            vat_error = vat_format_error(policy, app.country, app.vat_number)
            if vat_error:
                problems.append(
                    Problem(code="vat_number", error_code=vat_error, reason="VAT number malformed")
                )
            signed, current = signed_versions(session, app.id), current_versions()
            for kind in required_agreements(policy, app.country):
                if signed.get(kind) != current[kind]:
                    problems.append(
                        Problem(
                            code=kind, error_code="not_signed", reason="sign the current version"
                        )
                    )
            answer = self.registry.lookup(app.country, app.registration_number, app.legal_name)
        if answer == RegistryAnswer.unavailable:
            # Unverified, not invalid: the activity retries with backoff until the registry answers.
            raise ApplicationError("company registry unavailable", type="RegistryUnavailable")
        if answer == RegistryAnswer.not_found:
            problems.append(
                Problem(
                    code="company_registration_extract",
                    error_code="registry_mismatch",
                    reason="the registration number is not in the company registry",
                )
            )
        return VerifyApplicationResult(problems=problems)

    def _check_pending_files(self, application_id: str, max_bytes: int) -> dict[str, Problem]:
        """Check the files completed while S3 was down, as the upload would have; the refusals.

        Each verdict is committed at once: a refused file is deleted from S3, so a later retry
        must not find the document still pending. S3 still down raises: the activity retries.
        """
        refused: dict[str, Problem] = {}
        with session_scope(self.engine) as session:
            pending = session.exec(
                select(Document).where(
                    Document.application_id == uuid.UUID(application_id),
                    Document.status == DocumentStatus.uploaded.value,
                    col(Document.sha256).is_(None),
                )
            ).all()
            for doc in pending:
                if self.store is None:
                    raise StoreUnavailable("this worker has no object store to check uploads")
                if not check_document(self.store, doc, max_bytes):
                    doc.status = DocumentStatus.refused.value
                    doc.error_code, doc.error_reason = "document_missing", "no file was stored"
                session.add(doc)
                session.commit()
                if doc.status == DocumentStatus.refused.value:
                    refused[doc.kind] = Problem(
                        code=doc.kind,
                        error_code=doc.error_code or "",
                        reason=doc.error_reason or "",
                    )
        return refused

    @activity.defn
    def apply_verdicts(self, inp: ApplyVerdictsInput) -> None:
        with session_scope(self.engine) as session:
            app_id = uuid.UUID(inp.application_id)
            by_id = {uuid.UUID(v.document_id): v for v in inp.verdicts}
            for doc in latest_documents(session, app_id).values():
                verdict = by_id.get(doc.id)
                if verdict is not None and not verdict.accepted:
                    doc.status = DocumentStatus.refused.value
                    doc.error_code = verdict.error_code or "refused_by_reviewer"
                    doc.error_reason = "refused by the onboarding team"
                elif (verdict is not None or inp.accept_rest) and doc.status in READY:
                    doc.status = DocumentStatus.accepted.value
                session.add(doc)

    @activity.defn
    def setup_account(self, inp: SetupAccountInput) -> SetupAccountResult:
        """Create the seller account with trial capabilities; a retry changes nothing."""
        seller_id = seller_id_for(inp.application_id)
        with session_scope(self.engine) as session:
            app = _application(session, inp.application_id)
            if session.get(Seller, seller_id) is None:
                caps = inp.capabilities
                session.add(
                    Seller(
                        id=seller_id,
                        application_id=app.id,
                        legal_name=app.legal_name,
                        seller_category=app.seller_category,
                        country=app.country,
                        status=SellerStatus.trial.value,
                        ssm_username=inp.ssm_username,
                        trial_ends_at=inp.trial_ends_at,
                        listing_cap=caps.listing_cap,
                        daily_order_cap=caps.daily_order_cap,
                        payouts_deferred=caps.payouts_deferred,
                    )
                )
                audit.record(
                    session,
                    key=f"seller-created:{seller_id}",
                    actor="system",
                    action="seller.created",
                    subject_type="seller",
                    subject_id=str(seller_id),
                    after=SellerStatus.trial.value,
                    reason=f"account set up, SSM {inp.ssm_username}",
                    at=inp.at,
                )
            app.seller_id = seller_id
        return SetupAccountResult(seller_id=str(seller_id))
