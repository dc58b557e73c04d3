"""The wire values clients depend on (docs/http.md, "Vocabulary")."""

from enum import StrEnum


class SellerCategory(StrEnum):
    refurbishing_factory = "refurbishing_factory"
    repair_workshop = "repair_workshop"
    recycler = "recycler"
    trader_wholesaler = "trader_wholesaler"
    leasing_company = "leasing_company"
    manufacturer = "manufacturer"
    retailer = "retailer"
    mobile_operator = "mobile_operator"


class ProductCategory(StrEnum):
    smartphones = "smartphones"
    laptops = "laptops"
    tablets = "tablets"
    appliances = "appliances"
    accessories = "accessories"


class Stage(StrEnum):
    draft = "draft"
    submitted = "submitted"
    verifying = "verifying"
    changes_requested = "changes_requested"
    onboarding_review = "onboarding_review"
    ssm_signoff = "ssm_signoff"
    account_setup = "account_setup"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"
    expired = "expired"


FINAL_STAGES = frozenset({Stage.approved, Stage.rejected, Stage.withdrawn, Stage.expired})


class SellerStatus(StrEnum):
    trial = "trial"
    active = "active"
    warned = "warned"
    limited = "limited"
    suspended = "suspended"
    offboarded = "offboarded"


class RequirementStatus(StrEnum):
    currently_due = "currently_due"
    eventually_due = "eventually_due"
    pending_verification = "pending_verification"
    past_due = "past_due"
    satisfied = "satisfied"


class RequirementType(StrEnum):
    document = "document"
    agreement = "agreement"
    field = "field"


class DocumentKind(StrEnum):
    company_registration_extract = "company_registration_extract"
    legal_representative_id = "legal_representative_id"
    proof_of_address = "proof_of_address"
    bank_account_proof = "bank_account_proof"
    vat_registration = "vat_registration"
    refurbishment_process = "refurbishment_process"
    warranty_policy = "warranty_policy"
    waste_permit = "waste_permit"
    sourcing_declaration = "sourcing_declaration"
    insurance_certificate = "insurance_certificate"
    weee_registration = "weee_registration"


class DocumentStatus(StrEnum):
    awaiting_upload = "awaiting_upload"
    uploaded = "uploaded"
    verified = "verified"
    accepted = "accepted"
    refused = "refused"


class CheckCode(StrEnum):
    """The automated trust and safety checks of an application (`application_check.code`)."""

    vat_number = "vat_number"
    iban = "iban"
    company_registry = "company_registry"
    vat_registry = "vat_registry"
    sanctions = "sanctions"
    duplicates = "duplicates"


class CheckStatus(StrEnum):
    passed = "passed"
    failed = "failed"
    needs_review = "needs_review"
    unavailable = "unavailable"


class AgreementKind(StrEnum):
    terms = "terms"
    quality_charter = "quality_charter"
    trader_certification = "trader_certification"


class Role(StrEnum):
    onboarding = "onboarding"
    ssm = "ssm"
    lab = "lab"
    ops = "ops"


class TaskKind(StrEnum):
    onboarding_review = "onboarding_review"
    ssm_signoff = "ssm_signoff"
    mystery_order = "mystery_order"
    appeal_review = "appeal_review"
    trial_review = "trial_review"
    # A seller's renewed document, checked by the onboarding team (rules 5).
    document_review = "document_review"


class TaskStatus(StrEnum):
    open = "open"
    completed = "completed"
    cancelled = "cancelled"


class Decision(StrEnum):
    approve = "approve"
    reject = "reject"
    request_changes = "request_changes"
    passed = "passed"
    minor_issues = "minor_issues"
    blocker = "blocker"
    graduate = "graduate"
    extend = "extend"
    offboard = "offboard"
    reinstate = "reinstate"
    uphold = "uphold"


TASK_DECISIONS: dict[TaskKind, frozenset[Decision]] = {
    TaskKind.onboarding_review: frozenset(
        {Decision.approve, Decision.reject, Decision.request_changes}
    ),
    TaskKind.ssm_signoff: frozenset({Decision.approve, Decision.reject, Decision.request_changes}),
    TaskKind.mystery_order: frozenset({Decision.passed, Decision.minor_issues, Decision.blocker}),
    TaskKind.trial_review: frozenset({Decision.graduate, Decision.extend, Decision.offboard}),
    TaskKind.appeal_review: frozenset({Decision.reinstate, Decision.uphold}),
    TaskKind.document_review: frozenset({Decision.approve, Decision.reject}),
}

TASK_ROLES: dict[TaskKind, frozenset[Role]] = {
    TaskKind.onboarding_review: frozenset({Role.onboarding}),
    TaskKind.ssm_signoff: frozenset({Role.ssm}),
    TaskKind.mystery_order: frozenset({Role.lab}),
    TaskKind.trial_review: frozenset({Role.ssm}),
    TaskKind.appeal_review: frozenset({Role.ssm, Role.ops}),
    TaskKind.document_review: frozenset({Role.onboarding}),
}


class RenewalStatus(StrEnum):
    """Where the renewal of a seller's document stands (`document_renewals.status`)."""

    requested = "requested"  # asked for before the document on file stops being valid
    under_review = "under_review"  # a new file uploaded, a reviewer checks it
    lapsed = "lapsed"  # the document on file stopped being valid before a new one was accepted
    renewed = "renewed"  # a new file accepted: the next renewal counts from its dates


class KPI(StrEnum):
    order_defect_rate = "order_defect_rate"
    seller_cancellation_rate = "seller_cancellation_rate"
    late_shipment_rate = "late_shipment_rate"
    on_time_delivery = "on_time_delivery"
    refund_rate = "refund_rate"
    review_rating = "review_rating"


class KpiStatus(StrEnum):
    good = "good"
    warn = "warn"
    limit = "limit"
    not_enough_data = "not_enough_data"


class Standing(StrEnum):
    """A seller's overall KPI standing: the worst status among KPIs with enough data."""

    good = "good"
    warn = "warn"
    limit = "limit"


class ReturnReason(StrEnum):
    not_as_described = "not_as_described"
    changed_mind = "changed_mind"
    damaged_in_transit = "damaged_in_transit"
    other = "other"


class SellerActionKind(StrEnum):
    warn = "warn"
    limit = "limit"
    suspend = "suspend"
    reinstate = "reinstate"
    offboard = "offboard"


class NoticeDecision(StrEnum):
    """What a statement of reasons announces (DSA art. 17, P2B art. 4)."""

    warn = "warn"
    limit = "limit"
    suspend = "suspend"
    offboard_notice = "offboard_notice"
    offboard = "offboard"
    trial_extend = "trial_extend"


REASON_CODES: dict[str, str] = {
    "document_unreadable": "A document cannot be read",
    "document_expired": "A document is expired or too old",
    "name_mismatch": "The company name differs between documents",
    "registry_mismatch": "The registry data do not match the application",
    "insufficient_refurbishment_evidence": "The refurbishment process is not evidenced",
    "address_mismatch": "The address differs between documents",
    "bank_account_mismatch": "The bank account holder is not the company",
    "suspected_fraud": "Signs of fraud",
    "quality_concerns": "Quality concerns",
    "kpi_breach": "Performance below the thresholds",
    "other": "Other reason, see comment",
    "check_overridden": "An automated check's finding overridden",
}

# Reason codes for staff only: an applicant or a seller is given NEUTRAL_REASON instead (telling
# a suspect what gave them away helps them hide it next time).
INTERNAL_REASON_CODES = frozenset({"suspected_fraud"})
# Reason codes about the staff's own process, left out of what the applicant reads altogether.
HIDDEN_REASON_CODES = frozenset({"check_overridden"})
NEUTRAL_REASON = "The application does not meet the marketplace's requirements"

# ISO 3166-1 alpha-2 codes.
ISO_COUNTRIES = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW""".split()  # noqa: SIM905
)


class PolicyStatus(StrEnum):
    draft = "draft"
    scheduled = "scheduled"
    active = "active"
    retired = "retired"


class RolloutState(StrEnum):
    """A policy rollout: announced and waiting for its `effective_at`, switching the running
    seller workflows, then completed."""

    scheduled = "scheduled"
    switching = "switching"
    completed = "completed"


class SimulationStatus(StrEnum):
    running = "running"
    completed = "completed"
    failed = "failed"
