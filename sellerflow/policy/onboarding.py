"""Rules for human input to an application: who may decide what, and when (pure)."""

import uuid
from collections.abc import Mapping, Sequence
from typing import Protocol

from sellerflow.policy import Refused
from sellerflow.policy.mystery import check_mystery_checklist
from sellerflow.vocabulary import (
    REASON_CODES,
    TASK_DECISIONS,
    CheckStatus,
    Decision,
    Stage,
    TaskKind,
)


class Verdict(Protocol):
    """A reviewer's verdict on one document, as the rules read it."""

    @property
    def document_id(self) -> str: ...

    @property
    def accepted(self) -> bool: ...


class TaskDecision(Protocol):
    """A decision on a task, as the rules read it (`sellerflow.payloads.CompleteTaskInput`,
    the decision on the wire, is one: the rules do not import the payloads)."""

    @property
    def task_id(self) -> str: ...

    @property
    def actor(self) -> str: ...

    @property
    def decision(self) -> Decision: ...

    @property
    def reason_codes(self) -> Sequence[str]: ...

    @property
    def comment(self) -> str: ...

    @property
    def document_verdicts(self) -> Sequence[Verdict]: ...

    @property
    def checklist(self) -> Mapping[str, object]: ...


APPLICANT_STAGES = frozenset({Stage.draft, Stage.changes_requested})
WITHDRAWABLE_STAGES = frozenset(
    {
        Stage.draft,
        Stage.submitted,
        Stage.verifying,
        Stage.changes_requested,
        Stage.onboarding_review,
        Stage.ssm_signoff,
    }
)


# Every move an application may make from one stage to the next: the workflow's path, written
# once for the tests and the docs (docs/onboarding.md draws it).
STAGE_MOVES: dict[Stage, frozenset[Stage]] = {
    Stage.draft: frozenset({Stage.submitted, Stage.withdrawn, Stage.expired}),
    Stage.submitted: frozenset({Stage.verifying}),
    Stage.verifying: frozenset({Stage.changes_requested, Stage.onboarding_review}),
    Stage.changes_requested: frozenset({Stage.submitted, Stage.withdrawn, Stage.expired}),
    Stage.onboarding_review: frozenset(
        {Stage.ssm_signoff, Stage.changes_requested, Stage.rejected, Stage.withdrawn}
    ),
    Stage.ssm_signoff: frozenset(
        {Stage.account_setup, Stage.changes_requested, Stage.rejected, Stage.withdrawn}
    ),
    Stage.account_setup: frozenset({Stage.approved}),
    Stage.approved: frozenset(),
    Stage.rejected: frozenset(),
    Stage.withdrawn: frozenset(),
    Stage.expired: frozenset(),
}


# The people an application meets after its checks pass: the first task, and the stage each
# task is worked in. `stage_after` says where a decision leads; a stage here opens its task.
FIRST_TASK = TaskKind.onboarding_review
TASK_AT: dict[Stage, TaskKind] = {
    Stage.onboarding_review: TaskKind.onboarding_review,
    Stage.ssm_signoff: TaskKind.ssm_signoff,
}
# The task whose decision carries the verdicts on the documents.
REVIEWS_DOCUMENTS = TaskKind.onboarding_review


def stage_of(kind: TaskKind) -> Stage:
    return next(stage for stage, task in TASK_AT.items() if task == kind)


def stage_after(kind: TaskKind, decision: Decision) -> Stage:
    """The stage a decision on an onboarding task leads to (what the workflow enters next)."""
    if decision == Decision.reject:
        return Stage.rejected
    if decision == Decision.request_changes:
        return Stage.changes_requested
    return Stage.ssm_signoff if kind == TaskKind.onboarding_review else Stage.account_setup


def check_submit(stage: Stage, already_requested: bool) -> None:
    if stage not in APPLICANT_STAGES or already_requested:
        raise Refused("StageConflict", f"cannot submit an application in stage {stage.value}")


def check_withdraw(stage: Stage, already_requested: bool) -> None:
    if stage not in WITHDRAWABLE_STAGES or already_requested:
        raise Refused("StageConflict", f"cannot withdraw an application in stage {stage.value}")


def check_decision(
    open_task: tuple[str, TaskKind] | None,
    already_decided: bool,
    inp: TaskDecision,
    *,
    approver: str | None,
    withdrawing: bool = False,
) -> None:
    """Raise Refused unless `inp` may decide the task that is open now (not while the applicant's
    withdrawal is being applied: it was accepted first)."""
    if withdrawing:
        raise Refused("StageConflict", "the applicant is withdrawing this application")
    if open_task is None or open_task[0] != inp.task_id or already_decided:
        raise Refused("TaskNotOpen", "this task is not open any more")
    kind = open_task[1]
    check_decision_allowed(kind, inp)
    if kind == TaskKind.ssm_signoff and approver is not None and inp.actor == approver:
        raise Refused("FourEyes", "the sign-off must come from someone other than the approver")


NEEDS_REASON_CODES = frozenset(
    {
        Decision.reject,
        Decision.request_changes,
        Decision.blocker,
        Decision.offboard,
        Decision.extend,
    }
)


# Approving the review while an automated check found something takes this reason code.
CHECK_OVERRIDDEN = "check_overridden"
FINDINGS = frozenset({CheckStatus.failed, CheckStatus.needs_review})


def check_overrides(kind: TaskKind, inp: TaskDecision, findings: Sequence[str]) -> None:
    """Raise Refused when the review is approved over `findings` (the codes of the checks
    `failed` or `needs_review`) without the reason code `check_overridden`."""
    approving = kind == TaskKind.onboarding_review and inp.decision == Decision.approve
    if approving and findings and CHECK_OVERRIDDEN not in inp.reason_codes:
        named = ", ".join(findings)
        raise Refused(
            "ChecksNotOverridden",
            f"the checks {named} failed or need review: approving over them needs the reason"
            f" code {CHECK_OVERRIDDEN}",
        )


def check_decision_allowed(kind: TaskKind, inp: TaskDecision) -> None:
    if inp.decision not in TASK_DECISIONS[kind]:
        allowed = ", ".join(sorted(d.value for d in TASK_DECISIONS[kind]))
        raise Refused("InvalidDecision", f"a {kind.value} task takes one of: {allowed}")
    unknown = [c for c in inp.reason_codes if c not in REASON_CODES]
    if unknown:
        raise Refused("InvalidDecision", f"unknown reason codes: {', '.join(unknown)}")
    if inp.decision in NEEDS_REASON_CODES and not inp.reason_codes:
        raise Refused("InvalidDecision", f"a {inp.decision.value} decision needs reason codes")
    malformed = [v.document_id for v in inp.document_verdicts if not _is_uuid(v.document_id)]
    if malformed:
        raise Refused("InvalidDecision", f"document_verdicts name no document: {malformed[0]!r}")
    if (
        inp.decision == Decision.request_changes
        and not any(not v.accepted for v in inp.document_verdicts)
        and not inp.comment
    ):
        raise Refused(
            "InvalidDecision", "request_changes needs a refused document verdict or a comment"
        )
    if kind == TaskKind.mystery_order:
        check_mystery_checklist(inp.checklist)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def reasons_text(inp: TaskDecision) -> str:
    parts = [REASON_CODES.get(code, code) for code in inp.reason_codes]
    if inp.comment:
        parts.append(inp.comment)
    return "; ".join(parts)
