"""`fake_of`: a fake takes the real activity's name and must keep its argument and result types."""

import pytest
from temporalio import activity

from activities.tasks import TaskActivities
from sellerflow.payloads import CloseTaskInput, OpenTaskInput
from tests.support.fakes import activity_name, fake_of, fakes_in


class Fakes:
    @fake_of(TaskActivities.open_task)
    async def open_task(self, inp: OpenTaskInput) -> str:
        return inp.task_id

    @fake_of(TaskActivities.close_task)
    def close_task(self, inp: CloseTaskInput) -> None:
        return None

    def helper(self) -> None:
        """Not an activity: not listed."""


def test_a_fake_is_registered_under_the_real_name() -> None:
    listed = fakes_in(Fakes())
    names = sorted(activity._Definition.must_from_callable(f).name or "" for f in listed)
    assert names == sorted([activity_name(TaskActivities.open_task), "close_task"])


def test_a_fake_with_other_types_is_refused_where_it_is_defined() -> None:
    with pytest.raises(TypeError, match="open_task"):

        class Wrong:
            @fake_of(TaskActivities.open_task)
            def open_task(self, inp: CloseTaskInput) -> str:
                return ""


def test_only_activities_have_names() -> None:
    with pytest.raises(TypeError, match=r"@activity\.defn"):
        activity_name(Fakes.helper)
