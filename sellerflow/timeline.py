"""Turns Temporal workflow histories into a timeline in business words (pure over events)."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory


@dataclass(frozen=True)
class Entry:
    at: datetime
    workflow_id: str
    kind: str
    text: str
    actor: str | None = None


def _payload(payloads: Any) -> dict[str, Any]:
    """First payload of a Payloads message as JSON (the Pydantic converter writes JSON)."""
    items = list(getattr(payloads, "payloads", []))
    if not items:
        return {}
    try:
        value = json.loads(items[0].data)
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {"value": value}


# The parts of an onboarding move (`transition`), in the order it writes them, each read as
# the activity that wrote it alone before one transaction per move.
_MOVE_PARTS = (
    ("close", "close_task"),
    ("stages", "set_stage"),
    ("account", "setup_account"),
    ("open", "open_task"),
    ("notices", "notify"),
)


def _activity_texts(name: str, args: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(kind, text, actor) of what an activity did that means something to a person."""
    if name == "transition":
        texts = []
        for part, written_by in _MOVE_PARTS:
            value = args.get(part)
            for one in value if isinstance(value, list) else [value]:
                if isinstance(one, dict):
                    texts += _activity_texts(written_by, one)
        return texts
    described = _activity_text(name, args)
    return [described] if described else []


def _activity_text(name: str, args: dict[str, Any]) -> tuple[str, str, str | None] | None:
    """(kind, text, actor) for the activities that mean something to a person."""
    if name == "set_stage":
        reason = f": {args['reason']}" if args.get("reason") else ""
        return "stage", f"stage entered: {args.get('stage')}{reason}", None
    if name == "open_task":
        return "task", f"task created: {args.get('kind')} (due {args.get('due_at')})", None
    if name == "escalate_task":
        return "task", "task escalated: past its due time, ops notified", None
    if name == "close_task":
        d = args.get("decision", {})
        reasons = ", ".join(d.get("reason_codes", []))
        comment = f" \u2014 {d['comment']}" if d.get("comment") else ""
        return (
            "decision",
            f"task completed: {d.get('decision')} by {d.get('actor')}"
            f"{' (' + reasons + ')' if reasons else ''}{comment}",
            d.get("actor"),
        )
    if name == "notify":
        return "notification", f"notification queued: {args.get('template')}", None
    if name == "verify_application":
        return "check", "automated checks started", None
    if name == "setup_account":
        return "account", "seller account set up", None
    if name == "apply_status":
        effect = args.get("effect", {})
        reason = effect.get("reason", {}).get("summary", "")
        return (
            "status",
            f"seller status: {effect.get('status')} \u2014 {reason}",
            effect.get("actor"),
        )
    if name == "trial_snapshot":
        return "trial", "trial end: KPIs and mystery orders evaluated", None
    return None


def timeline(workflow_id: str, history: WorkflowHistory) -> list[Entry]:
    entries: list[Entry] = []
    scheduled: dict[int, str] = {}
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            entries += _activity_entries(workflow_id, event, scheduled)
            continue
        entry = _entry(workflow_id, event, scheduled)
        if entry is not None:
            entries.append(entry)
    return entries


def _activity_entries(
    workflow_id: str, event: HistoryEvent, scheduled: dict[int, str]
) -> list[Entry]:
    a_activity_task_scheduled = event.activity_task_scheduled_event_attributes
    name = a_activity_task_scheduled.activity_type.name
    scheduled[event.event_id] = name
    at = event.event_time.ToDatetime(tzinfo=UTC)
    return [
        Entry(at=at, workflow_id=workflow_id, kind=kind, text=text, actor=actor)
        for kind, text, actor in _activity_texts(name, _payload(a_activity_task_scheduled.input))
    ]


def _entry(workflow_id: str, event: HistoryEvent, scheduled: dict[int, str]) -> Entry | None:
    at = event.event_time.ToDatetime(tzinfo=UTC)

    def make(kind: str, text: str, actor: str | None = None) -> Entry:
        return Entry(at=at, workflow_id=workflow_id, kind=kind, text=text, actor=actor)

    t = event.event_type
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        a_workflow_execution_started = event.workflow_execution_started_event_attributes
        return make(
            "workflow", f"workflow started: {a_workflow_execution_started.workflow_type.name}"
        )
    if t == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        a_activity_task_failed = event.activity_task_failed_event_attributes
        name = scheduled.get(a_activity_task_failed.scheduled_event_id, "activity")
        return make("error", f"{name} failed: {a_activity_task_failed.failure.message}")
    if t == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
        a_activity_task_timed_out = event.activity_task_timed_out_event_attributes
        return make(
            "error",
            f"{scheduled.get(a_activity_task_timed_out.scheduled_event_id, 'activity')} timed out",
        )
    if t == EventType.EVENT_TYPE_TIMER_FIRED:
        return make("timer", "timer fired (deadline, reminder, SLA or trial date reached)")
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        a_workflow_execution_update_accepted = (
            event.workflow_execution_update_accepted_event_attributes
        )
        request = a_workflow_execution_update_accepted.accepted_request
        args = _payload(request.input.args)
        actor = args.get("actor")
        detail = f": {args.get('decision')}" if args.get("decision") else ""
        return make("update", f"{request.input.name} accepted{detail}", actor)
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        a_workflow_execution_signaled = event.workflow_execution_signaled_event_attributes
        args = _payload(a_workflow_execution_signaled.input)
        return make(
            "signal", f"signal {a_workflow_execution_signaled.signal_name}", args.get("actor")
        )
    if t == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        a_start_child_workflow_execution_initiated = (
            event.start_child_workflow_execution_initiated_event_attributes
        )
        return make("workflow", f"started {a_start_child_workflow_execution_initiated.workflow_id}")
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        return make("workflow", "continued as new (history kept short)")
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
        return make("workflow", "workflow completed")
    if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        a_workflow_execution_failed = event.workflow_execution_failed_event_attributes
        return make("error", f"workflow failed: {a_workflow_execution_failed.failure.message}")
    return None
