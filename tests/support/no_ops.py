"""The activities a workflow test does not watch, faked as doing nothing and failing nothing.

A test's fake class inherits `NoOpActivities` and defines only the fakes it records or holds;
those replace the ones here (`fakes_in` lists each activity name once, the subclass's first).
"""

from activities.applications import ApplicationActivities
from activities.notifications import NotificationActivities
from activities.renewals import RenewalActivities
from activities.sellers import SellerActivities
from activities.tasks import TaskActivities
from sellerflow.payloads import (
    ApplySellerStatusInput,
    ApplyVerdictsInput,
    CancelTasksInput,
    DeliverNotificationInput,
    DocumentsOnFile,
    DocumentsOnFileInput,
    EscalateTaskInput,
    NotifyInput,
    RecordPolicySwitchInput,
    RecordRefusalInput,
    RecordRenewalInput,
    RecordStandingInput,
    VerifyApplicationInput,
    VerifyApplicationResult,
)
from tests.support.fakes import fake_of


class NoOpActivities:
    @fake_of(NotificationActivities.notify)
    def notify(self, inp: NotifyInput) -> bool:
        return True

    @fake_of(NotificationActivities.deliver_notification)
    def deliver_notification(self, inp: DeliverNotificationInput) -> bool:
        return True

    @fake_of(TaskActivities.escalate_task)
    def escalate_task(self, inp: EscalateTaskInput) -> list[str]:
        return []

    @fake_of(TaskActivities.cancel_tasks)
    def cancel_tasks(self, inp: CancelTasksInput) -> int:
        return 0

    @fake_of(ApplicationActivities.apply_verdicts)
    def apply_verdicts(self, inp: ApplyVerdictsInput) -> None:
        return None

    @fake_of(ApplicationActivities.verify_application)
    def verify_application(self, inp: VerifyApplicationInput) -> VerifyApplicationResult:
        return VerifyApplicationResult(problems=[])

    @fake_of(SellerActivities.apply_status)
    def apply_status(self, inp: ApplySellerStatusInput) -> None:
        return None

    @fake_of(SellerActivities.record_policy_switch)
    def record_policy_switch(self, inp: RecordPolicySwitchInput) -> None:
        return None

    @fake_of(SellerActivities.record_refusal)
    def record_refusal(self, inp: RecordRefusalInput) -> None:
        return None

    @fake_of(SellerActivities.record_standing)
    def record_standing(self, inp: RecordStandingInput) -> None:
        return None

    @fake_of(RenewalActivities.documents_on_file)
    def documents_on_file(self, inp: DocumentsOnFileInput) -> DocumentsOnFile:
        return DocumentsOnFile(documents=[])

    @fake_of(RenewalActivities.record_renewal)
    def record_renewal(self, inp: RecordRenewalInput) -> None:
        return None
