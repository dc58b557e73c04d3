"""Who may decide what on an application, and when the applicant may submit or withdraw."""

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sellerflow.payloads import CompleteTaskInput, DocumentVerdict
from sellerflow.policy import Refused
from sellerflow.policy.disclosure import public_reason_codes, public_reasons
from sellerflow.policy.onboarding import (
    check_decision,
    check_overrides,
    check_submit,
    check_withdraw,
    reasons_text,
    stage_of,
)
from sellerflow.vocabulary import Decision, Stage, TaskKind

TASK = "task-1"
DOC_ID = "0b6f3c1e-8d2a-4f5b-9c7e-1a2b3c4d5e6f"
REVIEW = (TASK, TaskKind.onboarding_review)
SIGNOFF = (TASK, TaskKind.ssm_signoff)


def decision(d: Decision, **fields: object) -> CompleteTaskInput:
    values: dict[str, object] = {"task_id": TASK, "actor": "bob", "decision": d}
    values.update(fields)
    return CompleteTaskInput(**values)  # type: ignore[arg-type]


def refusal_code(
    open_task: tuple[str, TaskKind] | None,
    inp: CompleteTaskInput,
    *,
    already_decided: bool = False,
    approver: str | None = None,
) -> str:
    with pytest.raises(Refused) as refused:
        check_decision(open_task, already_decided, inp, approver=approver)
    return refused.value.code


# --- check_decision ----------------------------------------------------------------------


def test_approve_on_the_open_review_is_accepted() -> None:
    check_decision(REVIEW, False, decision(Decision.approve), approver=None)


def test_no_open_task_is_task_not_open() -> None:
    assert refusal_code(None, decision(Decision.approve)) == "TaskNotOpen"


def test_another_task_id_is_task_not_open() -> None:
    assert refusal_code(("task-2", TaskKind.onboarding_review), decision(Decision.approve)) == (
        "TaskNotOpen"
    )


def test_already_decided_task_is_task_not_open() -> None:
    assert refusal_code(REVIEW, decision(Decision.approve), already_decided=True) == "TaskNotOpen"


@pytest.mark.parametrize(
    "d", [Decision.passed, Decision.graduate, Decision.reinstate, Decision.uphold, Decision.extend]
)
def test_decision_the_kind_does_not_take_is_invalid(d: Decision) -> None:
    assert refusal_code(REVIEW, decision(d, reason_codes=["other"])) == "InvalidDecision"
    assert refusal_code(SIGNOFF, decision(d, reason_codes=["other"])) == "InvalidDecision"


def test_reject_without_reason_codes_is_invalid() -> None:
    with pytest.raises(Refused, match="reason codes") as refused:
        check_decision(REVIEW, False, decision(Decision.reject), approver=None)
    assert refused.value.code == "InvalidDecision"


def test_reject_with_a_reason_code_is_accepted() -> None:
    check_decision(
        REVIEW, False, decision(Decision.reject, reason_codes=["suspected_fraud"]), approver=None
    )


def test_unknown_reason_code_is_invalid() -> None:
    inp = decision(Decision.reject, reason_codes=["name_mismatch", "bad_vibes"])
    with pytest.raises(Refused, match="bad_vibes") as refused:
        check_decision(REVIEW, False, inp, approver=None)
    assert refused.value.code == "InvalidDecision"


def test_unknown_reason_code_is_invalid_even_on_approve() -> None:
    assert refusal_code(REVIEW, decision(Decision.approve, reason_codes=["nope"])) == (
        "InvalidDecision"
    )


def test_request_changes_needs_reasons_and_a_refused_verdict_or_comment() -> None:
    bare = decision(Decision.request_changes, reason_codes=["document_unreadable"])
    assert refusal_code(REVIEW, bare) == "InvalidDecision"
    no_reason = decision(Decision.request_changes, comment="please re-upload")
    assert refusal_code(REVIEW, no_reason) == "InvalidDecision"
    only_accepted = decision(
        Decision.request_changes,
        reason_codes=["document_unreadable"],
        document_verdicts=[DocumentVerdict(document_id=DOC_ID, accepted=True)],
    )
    assert refusal_code(REVIEW, only_accepted) == "InvalidDecision"
    with_verdict = decision(
        Decision.request_changes,
        reason_codes=["document_unreadable"],
        document_verdicts=[
            DocumentVerdict(document_id=DOC_ID, accepted=False, error_code="document_unreadable")
        ],
    )
    check_decision(REVIEW, False, with_verdict, approver=None)
    with_comment = decision(
        Decision.request_changes, reason_codes=["other"], comment="the scan is cut off"
    )
    check_decision(REVIEW, False, with_comment, approver=None)


def test_ssm_signoff_by_the_approver_is_four_eyes() -> None:
    inp = decision(Decision.approve, actor="alice")
    assert refusal_code(SIGNOFF, inp, approver="alice") == "FourEyes"


def test_ssm_signoff_by_someone_else_is_accepted() -> None:
    check_decision(SIGNOFF, False, decision(Decision.approve, actor="carol"), approver="alice")


def test_four_eyes_applies_to_the_signoff_only() -> None:
    check_decision(REVIEW, False, decision(Decision.approve, actor="alice"), approver="alice")


def test_task_not_open_is_checked_before_four_eyes() -> None:
    inp = decision(Decision.approve, actor="alice")
    assert refusal_code(SIGNOFF, inp, already_decided=True, approver="alice") == "TaskNotOpen"


def test_stage_of_task_kinds() -> None:
    assert stage_of(TaskKind.ssm_signoff) == Stage.ssm_signoff
    assert stage_of(TaskKind.onboarding_review) == Stage.onboarding_review


def test_reasons_text_joins_descriptions_and_comment() -> None:
    inp = decision(Decision.reject, reason_codes=["name_mismatch"], comment="see page 2")
    assert reasons_text(inp) == "The company name differs between documents; see page 2"


# --- submit and withdraw -----------------------------------------------------------------


@pytest.mark.parametrize("stage", [Stage.draft, Stage.changes_requested])
def test_applicant_may_submit_in_draft_and_changes_requested(stage: Stage) -> None:
    check_submit(stage, already_requested=False)


@pytest.mark.parametrize("stage", [Stage.draft, Stage.changes_requested])
def test_second_submit_request_is_refused(stage: Stage) -> None:
    with pytest.raises(Refused) as refused:
        check_submit(stage, already_requested=True)
    assert refused.value.code == "StageConflict"


@pytest.mark.parametrize(
    "stage", sorted(set(Stage) - {Stage.draft, Stage.changes_requested}, key=str)
)
def test_submit_refused_in_other_stages(stage: Stage) -> None:
    with pytest.raises(Refused, match=stage.value) as refused:
        check_submit(stage, already_requested=False)
    assert refused.value.code == "StageConflict"


WITHDRAWABLE = {
    Stage.draft,
    Stage.submitted,
    Stage.verifying,
    Stage.changes_requested,
    Stage.onboarding_review,
    Stage.ssm_signoff,
}


@pytest.mark.parametrize("stage", sorted(WITHDRAWABLE, key=str))
def test_withdraw_allowed_until_the_signoff(stage: Stage) -> None:
    check_withdraw(stage, already_requested=False)
    with pytest.raises(Refused):
        check_withdraw(stage, already_requested=True)


@pytest.mark.parametrize(
    "stage",
    [Stage.account_setup, Stage.approved, Stage.rejected, Stage.withdrawn, Stage.expired],
)
def test_withdraw_refused_once_decided(stage: Stage) -> None:
    with pytest.raises(Refused) as refused:
        check_withdraw(stage, already_requested=False)
    assert refused.value.code == "StageConflict"


def test_a_verdict_naming_no_document_is_refused_before_it_reaches_the_database() -> None:
    """A malformed document id in a verdict was a ValueError in the activity, retried forever."""
    with_bad_id = decision(
        Decision.request_changes,
        reason_codes=["other"],
        document_verdicts=[
            DocumentVerdict(document_id="d1", accepted=False, error_code="document_unreadable")
        ],
    )
    assert refusal_code(REVIEW, with_bad_id) == "InvalidDecision"


def test_the_rules_do_not_import_the_wire_payloads() -> None:
    """payloads imports the policy; the policy reads decisions through `TaskDecision`."""
    probe = "import sys, sellerflow.policy.onboarding; print('sellerflow.payloads' in sys.modules)"
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "False"


def test_approving_the_review_over_findings_needs_check_overridden() -> None:
    approve = CompleteTaskInput(task_id="t", actor="onboarding1", decision=Decision.approve)
    overriding = approve.model_copy(update={"reason_codes": ["check_overridden"]})
    with pytest.raises(Refused) as refused:
        check_overrides(TaskKind.onboarding_review, approve, ["sanctions", "duplicates"])
    assert refused.value.code == "ChecksNotOverridden"
    assert "sanctions, duplicates" in refused.value.detail
    check_overrides(TaskKind.onboarding_review, overriding, ["sanctions"])
    check_overrides(TaskKind.onboarding_review, approve, [])
    check_overrides(TaskKind.ssm_signoff, approve, ["sanctions"])
    reject = approve.model_copy(update={"decision": Decision.reject})
    check_overrides(TaskKind.onboarding_review, reject, ["sanctions"])


def test_check_overridden_is_never_shown_to_the_applicant() -> None:
    assert public_reasons(["check_overridden"]) == []
    assert public_reason_codes(["check_overridden", "other"]) == ["other"]


CHECK_CODES = ["vat_number", "iban", "company_registry", "vat_registry", "sanctions", "duplicates"]


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(list(TaskKind)),
    decision=st.sampled_from(list(Decision)),
    reason_codes=st.lists(st.sampled_from(["check_overridden", "documents_unreadable", "other"])),
    findings=st.lists(st.sampled_from(CHECK_CODES), unique=True),
)
def test_only_an_approved_review_over_findings_without_the_code_is_refused(
    kind: TaskKind, decision: Decision, reason_codes: list[str], findings: list[str]
) -> None:
    """The invariant of the override rule: it refuses exactly the onboarding review approved
    over at least one finding without `check_overridden`, and names every finding."""
    inp = CompleteTaskInput(
        task_id="t", actor="onboarding1", decision=decision, reason_codes=reason_codes
    )
    refused_expected = (
        kind == TaskKind.onboarding_review
        and decision == Decision.approve
        and bool(findings)
        and "check_overridden" not in reason_codes
    )
    if not refused_expected:
        check_overrides(kind, inp, findings)
        return
    with pytest.raises(Refused) as refused:
        check_overrides(kind, inp, findings)
    assert refused.value.code == "ChecksNotOverridden"
    assert all(code in refused.value.detail for code in findings)
