"""Application records: stage changes, automated checks, verdicts and account setup."""

import uuid
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from sellerflow import audit
from sellerflow.db import insert_once, session_scope, table_of
from sellerflow.models import Application, Seller, StageChange, UTCDateTime, utcnow
from sellerflow.payloads import (
    ApplyVerdictsInput,
    DocumentVerdict,
    Problem,
    RecheckChecksInput,
    RecheckChecksResult,
    SetStageInput,
    SetupAccountInput,
    SetupAccountResult,
    VerifyApplicationInput,
    VerifyApplicationResult,
)
from sellerflow.policy.checks import (
    iban_check,
    iban_format_error,
    not_in_register,
    recheck_at,
    vat_number_check,
)
from sellerflow.policy.model import Capabilities, CheckRules, Policy
from sellerflow.policy.requirements import (
    document_date_error,
    required_agreements,
    required_documents,
    vat_format_error,
)
from sellerflow.queries.agreements import current_versions, signed_versions
from sellerflow.queries.documents import DOCUMENTS_OF, latest_documents, newest_of_each_kind
from sellerflow.registries import CompanyRegistry, Registers, VatRegistry
from sellerflow.services.checks import recheck_unavailable, record_checks, register_outcomes
from sellerflow.services.documents import settle_pending_files
from sellerflow.services.duplicates import duplicates_outcome
from sellerflow.services.sanctions import newest_list, screening
from sellerflow.services.seller_accounts import new_account
from sellerflow.storage import ObjectStore, StoreUnavailable
from sellerflow.tables import APPLICATIONS, DOCUMENTS, SELLER_ACCOUNTS, SELLERS
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


STAGE_CHANGES: sa.Table = table_of(StageChange)
_STAGE_OF = sa.select(APPLICATIONS.c.stage).where(APPLICATIONS.c.id == sa.bindparam("app_id"))
_ENTER_STAGE = (
    sa.update(APPLICATIONS)
    .where(APPLICATIONS.c.id == sa.bindparam("app_id"))
    .values(
        stage=sa.bindparam("new_stage"),
        stage_entered_at=sa.bindparam("entered_at", type_=UTCDateTime()),
        updated_at=sa.bindparam("now", type_=UTCDateTime()),
        deadline_at=sa.bindparam("deadline", type_=UTCDateTime()),
    )
)


_SET_VERDICT = (
    sa.update(DOCUMENTS)
    .where(DOCUMENTS.c.id == sa.bindparam("doc_id"))
    .values(
        status=sa.bindparam("new_status"),
        error_code=sa.bindparam("new_error_code"),
        error_reason=sa.bindparam("new_error_reason"),
    )
)
_COMPANY = sa.select(
    APPLICATIONS.c.legal_name,
    APPLICATIONS.c.seller_category,
    APPLICATIONS.c.country,
    APPLICATIONS.c.contact_email,
    APPLICATIONS.c.policy_version,
).where(APPLICATIONS.c.id == sa.bindparam("app_id"))
_LINK_SELLER = (
    sa.update(APPLICATIONS)
    .where(APPLICATIONS.c.id == sa.bindparam("app_id"))
    .values(seller_id=sa.bindparam("new_seller_id"))
)


class _Company(Protocol):
    legal_name: str
    seller_category: str
    country: str
    # The version the application was created under: the seller workflow starts with it.
    policy_version: str


def trial_seller_row(
    seller_id: uuid.UUID,
    application_id: uuid.UUID,
    company: _Company,
    ssm_username: str,
    trial_ends_at: datetime | None,
    caps: Capabilities,
) -> dict[str, Any]:
    """The seller row account setup writes: in trial, with the trial's capabilities."""
    return Seller(
        id=seller_id,
        application_id=application_id,
        legal_name=company.legal_name,
        seller_category=SellerCategory(company.seller_category),
        country=company.country,
        status=SellerStatus.trial,
        ssm_username=ssm_username,
        trial_ends_at=trial_ends_at,
        listing_cap=caps.listing_cap,
        daily_order_cap=caps.daily_order_cap,
        payouts_deferred=caps.payouts_deferred,
        policy_version=company.policy_version,
    ).model_dump()


class _Reviewed(Protocol):
    """What a review changes of a document: a row of `DOCUMENTS_OF`."""

    status: DocumentStatus
    error_code: str | None
    error_reason: str | None


def _after_review(
    doc: _Reviewed, verdict: DocumentVerdict | None, accept_rest: bool
) -> tuple[str, str | None, str | None] | None:
    """A document's status, error code and reason after the review; None: unchanged."""
    if verdict is not None and not verdict.accepted:
        code = verdict.error_code or "refused_by_reviewer"
        return DocumentStatus.refused.value, code, "refused by the onboarding team"
    if (verdict is not None or accept_rest) and doc.status in READY:
        return DocumentStatus.accepted.value, doc.error_code, doc.error_reason
    return None


def _found(conn: sa.Connection, statement: sa.Select[Any], app_id: uuid.UUID) -> sa.Row[Any]:
    """The application's row from `statement` (bound with `app_id`); InvalidInput if none."""
    row = conn.execute(statement, {"app_id": app_id}).first()
    if row is None:
        raise ApplicationError(f"no application {app_id}", type="InvalidInput")
    return row


def _application(session: Session, application_id: str) -> Application:
    app = session.get(Application, uuid.UUID(application_id))
    if app is None:
        raise ApplicationError(f"no application {application_id}", type="InvalidInput")
    return app


class ApplicationActivities:
    def __init__(
        self,
        engine: sa.Engine,
        registry: CompanyRegistry,
        store: ObjectStore | None = None,
        *,
        vat_registry: VatRegistry | None = None,
        checks: CheckRules | None = None,
    ) -> None:
        self.engine, self.store = engine, store
        self.registers = Registers(registry, vat_registry)
        # The thresholds of the re-checks: the worker's policy's (verification uses the run's).
        self.checks = checks or CheckRules()

    @activity.defn
    def set_stage(self, inp: SetStageInput) -> None:
        """Enter the stage, once per (application, stage, moment): a retry changes nothing."""
        with self.engine.begin() as conn:
            enter_stage(conn, inp)

    @activity.defn
    def verify_application(self, inp: VerifyApplicationInput) -> VerifyApplicationResult:
        """Automated checks: every document present and fresh, VAT format, agreements, registry."""
        policy, today = inp.policy, inp.as_of.date()
        problems: list[Problem] = []
        try:
            refused = self._check_pending_files(inp.application_id, policy)
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
                        DocumentStatus.refused,
                        error,
                    )
                    problems.append(Problem(code=kind, error_code=error[0], reason=error[1]))
                else:
                    doc.status = DocumentStatus.verified
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
            if iban_format_error(app.iban):
                problems.append(
                    Problem(code="iban", error_code="iban_invalid", reason="IBAN malformed")
                )
            outcomes = [
                found
                for found in (vat_number_check(app.country, app.vat_number), iban_check(app.iban))
                if found is not None
            ]
            # A register that does not answer is recorded `unavailable` and asked again by the
            # sweeper (`recheck_checks`): the applicant goes on, the reviewer sees it open.
            registered = register_outcomes(self.registers, app, inp.policy.checks)
            screened = screening(app, newest_list(session), inp.policy.checks)
            duplicates = duplicates_outcome(session, app)
            now = utcnow()
            retry_at = recheck_at(inp.policy.checks, 1, now)
            every = [*outcomes, *registered, screened, duplicates]
            record_checks(session.connection(), app.id, every, now, retry_at)
        if any(not_in_register(outcome) for outcome in registered):
            problems.append(
                Problem(
                    code="company_registration_extract",
                    error_code="registry_mismatch",
                    reason="the registration number is not in the company registry",
                )
            )
        return VerifyApplicationResult(problems=problems)

    def _check_pending_files(self, application_id: str, policy: Policy) -> dict[str, Problem]:
        """The refusals among the files completed while S3 was down (S3 still down raises)."""
        with session_scope(self.engine) as session:
            refused = settle_pending_files(session, self.store, policy, uuid.UUID(application_id))
            return {
                doc.kind: Problem(
                    code=doc.kind, error_code=doc.error_code or "", reason=doc.error_reason or ""
                )
                for doc in refused
            }

    @activity.defn
    def recheck_checks(self, inp: RecheckChecksInput) -> RecheckChecksResult:
        """Ask the registers again for the checks they left `unavailable` and that are due."""
        with session_scope(self.engine) as session:
            asked, silent = recheck_unavailable(
                session, self.registers, self.checks, inp.at, inp.limit
            )
        return RecheckChecksResult(asked=asked, still_unavailable=silent)

    @activity.defn
    def apply_verdicts(self, inp: ApplyVerdictsInput) -> None:
        with self.engine.begin() as conn:
            record_verdicts(conn, inp)

    @activity.defn
    def setup_account(self, inp: SetupAccountInput) -> SetupAccountResult:
        """Create the seller account with trial capabilities; a retry changes nothing."""
        with self.engine.begin() as conn:
            return create_seller(conn, inp)


# --- the writes of an application's moves, each in the caller's transaction ---------------
# The activities above run one each; `OnboardingActivities.transition` runs several together.


def enter_stage(conn: sa.Connection, inp: SetStageInput) -> None:
    """Enter the stage, once per (application, stage, moment): a retry changes nothing."""
    key = f"{inp.application_id}:{inp.stage.value}:{inp.at.isoformat()}"
    app_id = uuid.UUID(inp.application_id)
    before = _found(conn, _STAGE_OF, app_id).stage
    change = StageChange(
        application_id=app_id, stage=inp.stage, entered_at=inp.at, idempotency_key=key
    )
    if not insert_once(conn, STAGE_CHANGES, "idempotency_key", change.model_dump()):
        return  # entered before: this is a retry
    conn.execute(
        _ENTER_STAGE,
        {
            "app_id": app_id,
            "new_stage": inp.stage.value,
            "entered_at": inp.at,
            "now": utcnow(),
            "deadline": inp.deadline,
        },
    )
    audit.record(
        conn,
        key=f"stage:{key}",
        actor=inp.actor,
        action="application.stage",
        subject_type="application",
        subject_id=str(app_id),
        before=before,
        after=inp.stage.value,
        reason=inp.reason,
        at=inp.at,
        new_key=True,
    )


def record_verdicts(conn: sa.Connection, inp: ApplyVerdictsInput) -> None:
    """The review's verdicts on the newest document of each kind (the rest accepted if asked)."""
    app_id = uuid.UUID(inp.application_id)
    by_id = {uuid.UUID(v.document_id): v for v in inp.verdicts}
    changes: list[dict[str, object]] = []
    docs = newest_of_each_kind(conn.execute(DOCUMENTS_OF, {"app_id": app_id}))
    for doc in docs.values():
        after = _after_review(doc, by_id.get(doc.id), inp.accept_rest)
        if after is not None:
            status, code, reason = after
            changes.append(
                {
                    "doc_id": doc.id,
                    "new_status": status,
                    "new_error_code": code,
                    "new_error_reason": reason,
                }
            )
    if changes:
        conn.execute(_SET_VERDICT, changes)


def create_seller(conn: sa.Connection, inp: SetupAccountInput) -> SetupAccountResult:
    """The seller row in trial, linked to its application; a retry changes nothing."""
    seller_id = seller_id_for(inp.application_id)
    app_id = uuid.UUID(inp.application_id)
    app = _found(conn, _COMPANY, app_id)
    seller = trial_seller_row(
        seller_id, app_id, app, inp.ssm_username, inp.trial_ends_at, inp.capabilities
    )
    if insert_once(conn, SELLERS, "id", seller):
        audit.record(
            conn,
            key=f"seller-created:{seller_id}",
            actor="system",
            action="seller.created",
            subject_type="seller",
            subject_id=str(seller_id),
            after=SellerStatus.trial.value,
            reason=f"account set up, SSM {inp.ssm_username}",
            at=inp.at,
            new_key=True,  # written only here, with the seller's row
        )
    # The contact person's sign-in, activated through the link of the account_ready mail.
    insert_once(conn, SELLER_ACCOUNTS, "seller_id", new_account(seller_id, app.contact_email))
    conn.execute(_LINK_SELLER, {"app_id": app_id, "new_seller_id": seller_id})
    return SetupAccountResult(seller_id=str(seller_id))
