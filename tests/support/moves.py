"""The onboarding workflow's `transition` activity faked by the fakes of its parts.

A test that fakes `set_stage`, `open_task`, `notify`... one activity at a time (to record what
they write, or to hold one of them) inherits `MovesOfParts`: each move then calls those fakes
in the order the real `transition` writes its parts, inside the one activity.
"""

from typing import Protocol, cast

from activities.onboarding import OnboardingActivities
from sellerflow.payloads import (
    ApplyVerdictsInput,
    CancelTasksInput,
    CloseTaskInput,
    NotifyInput,
    OpenTaskInput,
    SetStageInput,
    SetupAccountInput,
    SetupAccountResult,
    TransitionInput,
    TransitionResult,
    VerifyApplicationInput,
    VerifyApplicationResult,
)
from tests.support.fakes import fake_of


class _Parts(Protocol):
    def close_task(self, inp: CloseTaskInput) -> None: ...
    def apply_verdicts(self, inp: ApplyVerdictsInput) -> None: ...
    def cancel_tasks(self, inp: CancelTasksInput) -> int: ...
    def set_stage(self, inp: SetStageInput) -> None: ...
    def setup_account(self, inp: SetupAccountInput) -> SetupAccountResult: ...
    def open_task(self, inp: OpenTaskInput) -> str: ...
    def notify(self, inp: NotifyInput) -> bool: ...
    def verify_application(self, inp: VerifyApplicationInput) -> VerifyApplicationResult: ...


class MovesOfParts:
    @fake_of(OnboardingActivities.transition)
    def transition(self, inp: TransitionInput) -> TransitionResult:
        parts, seller_id = cast(_Parts, self), None
        if inp.close is not None:
            parts.close_task(inp.close)
        if inp.verdicts is not None:
            parts.apply_verdicts(inp.verdicts)
        if inp.cancel is not None:
            parts.cancel_tasks(inp.cancel)
        for stage in inp.stages:
            parts.set_stage(stage)
        if inp.account is not None:
            seller_id = parts.setup_account(inp.account).seller_id
        if inp.open is not None:
            parts.open_task(inp.open)
        for notice in inp.notices:
            parts.notify(notice)
        if inp.check is None:
            return TransitionResult(seller_id=seller_id)
        found = parts.verify_application(inp.check)
        return TransitionResult(seller_id=seller_id, problems=found.problems)
