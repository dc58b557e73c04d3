"""What an application must provide, and the status of each requirement (Stripe-like)."""

from collections.abc import Mapping
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from sellerflow.policy import vat
from sellerflow.policy.model import Policy
from sellerflow.vocabulary import (
    DocumentStatus,
    RequirementStatus,
    RequirementType,
    SellerCategory,
)


class RequirementError(BaseModel):
    model_config = ConfigDict(frozen=True)
    code: str
    reason: str


class Requirement(BaseModel):
    model_config = ConfigDict(frozen=True)
    code: str
    type: RequirementType
    description: str
    status: RequirementStatus
    deadline: datetime | None = None
    errors: list[RequirementError] = []


class DocumentState(BaseModel):
    """The latest document of one kind, as the requirement rules need it."""

    model_config = ConfigDict(frozen=True)
    status: DocumentStatus
    error_code: str | None = None
    error_reason: str | None = None


AGREEMENT_DESCRIPTIONS = {
    "terms": "Sign the Seller Terms and Conditions",
    "quality_charter": "Sign the Quality Charter",
    "trader_certification": "Sign the EU trader self-certification",
}


def is_eu(policy: Policy, country: str) -> bool:
    return country in policy.eu_countries


def vat_format_error(policy: Policy, country: str, vat_number: str | None) -> str | None:
    """A reason code when an EU country's VAT number is missing, malformed or fails its check."""
    if not is_eu(policy, country):
        return None
    if not vat_number:
        return "vat_number_missing"
    return None if vat.is_valid(country, vat_number) else "vat_number_invalid"


def required_documents(policy: Policy, category: SellerCategory, country: str) -> list[str]:
    rules = policy.requirements
    kinds = list(rules.documents_for_all)
    if is_eu(policy, country):
        kinds += rules.documents_in_eu
    kinds += rules.documents_by_category.get(category, [])
    return kinds


def required_agreements(policy: Policy, country: str) -> list[str]:
    rules = policy.requirements
    return list(rules.agreements_for_all) + (
        list(rules.agreements_in_eu) if is_eu(policy, country) else []
    )


def requirements(
    policy: Policy,
    *,
    category: SellerCategory,
    country: str,
    vat_number: str | None,
    documents: Mapping[str, DocumentState],
    signed_agreements: Mapping[str, str],
    agreement_versions: Mapping[str, str],
    deadline: datetime | None,
    now: datetime,
    trial_ends_at: datetime | None = None,
) -> list[Requirement]:
    """Every requirement of an application with its current status.

    Eventually-due documents become currently due (by the trial end) once the seller is in
    its trial: `trial_ends_at` is given then."""
    overdue = deadline is not None and now > deadline
    due = RequirementStatus.past_due if overdue else RequirementStatus.currently_due
    result: list[Requirement] = []
    for kind in required_documents(policy, category, country):
        result.append(_document_requirement(policy, kind, documents.get(kind), due, deadline))
    for kind in policy.requirements.eventually_due:
        requirement = _document_requirement(
            policy, kind, documents.get(kind), *_eventually_due(trial_ends_at, now)
        )
        result.append(requirement)
    for kind in required_agreements(policy, country):
        current = agreement_versions.get(kind)
        signed = current is not None and signed_agreements.get(kind) == current
        result.append(
            Requirement(
                code=kind,
                type=RequirementType.agreement,
                description=AGREEMENT_DESCRIPTIONS[kind],
                status=RequirementStatus.satisfied if signed else due,
                deadline=None if signed else deadline,
            )
        )
    if is_eu(policy, country):
        error = vat_format_error(policy, country, vat_number)
        result.append(
            Requirement(
                code="vat_number",
                type=RequirementType.field,
                description="EU VAT number in the country's format, with valid check digits",
                status=RequirementStatus.satisfied if error is None else due,
                deadline=None if error is None else deadline,
                errors=[
                    RequirementError(
                        code=error,
                        reason="the VAT number is missing, malformed or fails its check digits",
                    )
                ]
                if error
                else [],
            )
        )
    return result


def _document_status(doc: DocumentState, missing: RequirementStatus) -> RequirementStatus:
    return {
        DocumentStatus.awaiting_upload: missing,
        DocumentStatus.refused: missing,
        DocumentStatus.uploaded: RequirementStatus.pending_verification,
        DocumentStatus.verified: RequirementStatus.pending_verification,
        DocumentStatus.accepted: RequirementStatus.satisfied,
    }[doc.status]


def _eventually_due(
    trial_ends_at: datetime | None, now: datetime
) -> tuple[RequirementStatus, datetime | None]:
    if trial_ends_at is None:
        return RequirementStatus.eventually_due, None
    late = now > trial_ends_at
    return (RequirementStatus.past_due if late else RequirementStatus.currently_due), trial_ends_at


def _document_requirement(
    policy: Policy,
    kind: str,
    doc: DocumentState | None,
    due: RequirementStatus,
    deadline: datetime | None,
) -> Requirement:
    status = _document_status(doc, due) if doc else due
    errors = []
    if doc and doc.status == DocumentStatus.refused and doc.error_code:
        errors.append(RequirementError(code=doc.error_code, reason=doc.error_reason or ""))
    return Requirement(
        code=kind,
        type=RequirementType.document,
        description=policy.documents.kinds[kind].description,
        status=status,
        deadline=deadline
        if status in (RequirementStatus.currently_due, RequirementStatus.past_due)
        else None,
        errors=errors,
    )


def unmet(reqs: list[Requirement]) -> list[str]:
    """Codes that block submission: what is still due now."""
    return [
        r.code
        for r in reqs
        if r.status in (RequirementStatus.currently_due, RequirementStatus.past_due)
    ]


def document_date_error(
    policy: Policy,
    kind: str,
    *,
    issued_on: date | None,
    expires_on: date | None,
    today: date,
) -> tuple[str, str] | None:
    """(code, reason) when a dated document is too old, expired or lacks its date."""
    rule = policy.documents.kinds[kind]
    if rule.max_age_days is not None:
        if issued_on is None:
            return "issue_date_missing", "the issue date of the document is required"
        if (today - issued_on).days > rule.max_age_days:
            return "document_too_old", f"issued more than {rule.max_age_days} days ago"
        if issued_on > today:
            return "issue_date_in_future", "the issue date lies in the future"
    if rule.must_not_be_expired:
        if expires_on is None:
            return "expiry_date_missing", "the expiry date of the document is required"
        if expires_on < today:
            return "document_expired", "the document has expired"
    return None
