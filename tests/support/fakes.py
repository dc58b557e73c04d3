"""Fake activities registered under the names of the real ones they stand in for.

A fake names the real activity method it replaces, not a string: a renamed or removed activity,
or a fake whose input or result type no longer matches the real one's, fails as the test
module is imported (at collection), not as a worker waits for an activity nobody registered.
"""

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from temporalio import activity

F = TypeVar("F", bound=Callable[..., Any])

_STANDS_IN_FOR = "__sellerflow_fake_of__"


def _definition(fn: Callable[..., Any]) -> activity._Definition:
    # temporalio keeps what `@activity.defn` registered (name, argument and result types) on
    # the function; this is how its worker and `execute_activity_method` read it too.
    return activity._Definition.must_from_callable(fn)


def activity_name(real: Callable[..., Any]) -> str:
    """The name the worker registers the activity `real` (e.g. `TaskActivities.open_task`)
    under."""
    name = _definition(real).name
    if not name:
        raise TypeError(f"{real.__qualname__} is a dynamic activity: it has no name")
    return name


def fake_of(real: Callable[..., Any]) -> Callable[[F], F]:
    """Decorate a fake with `@fake_of(TaskActivities.open_task)`: it is registered as an
    activity under the real one's name, and must take and return what the real one does
    (sync or async alike). Define fakes as methods of a class, as the real activities are, so
    the decorator runs as the module is imported; `fakes_in` lists them for a Worker."""
    name = activity_name(real)
    expected = _definition(real)

    def register(fake: F) -> F:
        defined: F = activity.defn(name=name)(fake)
        got = _definition(defined)
        if (got.arg_types, got.ret_type) != (expected.arg_types, expected.ret_type):
            raise TypeError(
                f"the fake {fake.__qualname__} of the activity {name!r} takes {got.arg_types}"
                f" and returns {got.ret_type}; {real.__qualname__} takes {expected.arg_types}"
                f" and returns {expected.ret_type}"
            )
        setattr(defined, _STANDS_IN_FOR, real)
        return defined

    return register


def fakes_in(fakes: object) -> list[Callable[..., Any]]:
    """The fake activities an object's class defines with `fake_of`, bound to it: what a Worker
    registers (`activities=fakes_in(Recorders(...))`)."""
    return [
        getattr(fakes, name)
        for name, member in inspect.getmembers(type(fakes))
        if getattr(member, _STANDS_IN_FOR, None) is not None
    ]
