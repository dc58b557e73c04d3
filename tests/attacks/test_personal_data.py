"""No personal data leaves the database for Temporal or the logs: after a whole journey from
applicant to approved seller, with distinctive names, email, VAT and registration numbers, none
of them is in a workflow id, search attribute, memo or summary, nor anywhere in the journey's
histories, nor in any log line of the API or the worker."""

import asyncio
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from temporalio.client import Client

from sellerflow.logs import JsonFormatter, RequestIdFilter
from sellerflow.policy.vat import is_valid
from tests.conftest import Stack
from tests.journey import approved_seller

VAT = next(f"DE27182818{d}" for d in range(10) if is_valid("DE", f"DE27182818{d}"))
APPLICANT = {
    "legal_name": "Quokkatronic Refurb Zeta GmbH",
    "registration_number": "HRB QZXW 7731",
    "vat_number": VAT,
    "contact_name": "Xerxes Pemberton-Quill",
    "contact_email": "xerxes.pemberton@quokkatronic.example",
    "iban": "GB33BUKB20201555555555",
}
SIGNER = "Ottoline Vasquez-Brindle"
# Each value whole, and the parts that would survive reformatting (case, separators, JSON).
PERSONAL = [
    *APPLICANT.values(),
    SIGNER,
    "quokkatronic",
    "pemberton",
    "xerxes",
    "vasquez",
    "ottoline",
    "qzxw",
    VAT.removeprefix("DE"),
    "20201555555555",
]


class Lines(logging.Handler):
    """Every record, as the JSON line the worker and the API would write."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.addFilter(RequestIdFilter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # aiosmtpd's log is the mail server's (the test's stand-in for the provider's), not ours.
        if not record.name.startswith("mail.log"):
            self.lines.append(self.format(record))


@contextmanager
def logged(level: int) -> Iterator[Lines]:
    root = logging.getLogger()
    lines, before = Lines(), root.level
    root.addHandler(lines)
    root.setLevel(level)
    try:
        yield lines
    finally:
        root.setLevel(before)
        root.removeHandler(lines)


async def workflow_texts(client: Client, task_queue: str) -> dict[str, str]:
    """What Temporal shows of each workflow: id, search attributes and memo of all of them (the
    server is shared by the session), summary and details of those of this test's queue."""
    texts = {}
    async for execution in client.list_workflows():
        parts: list[Any] = [
            execution.id,
            execution.workflow_type,
            [(pair.key.name, pair.value) for pair in execution.typed_search_attributes],
            await execution.memo(),
            execution.raw_info,
        ]
        if execution.task_queue == task_queue:
            handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
            described = await handle.describe()
            parts += [await described.static_summary(), await described.static_details()]
        texts[f"{execution.id} {execution.run_id}"] = "\n".join(str(p) for p in parts)
    return texts


async def texts_once_visible(client: Client, task_queue: str, journey: list[str]) -> dict[str, str]:
    """workflow_texts once the journey's workflows are in the list: visibility is eventually
    consistent, so a workflow started a moment ago may not be listed yet."""
    deadline = time.monotonic() + 20
    while True:
        texts = await workflow_texts(client, task_queue)
        listed = all(any(key.startswith(wf) for key in texts) for wf in journey)
        if listed or time.monotonic() > deadline:
            return texts
        await asyncio.sleep(0.2)


def leaks(texts: dict[str, str]) -> list[str]:
    found = []
    for where, text in texts.items():
        lowered = text.lower()
        found += [f"{value!r} in {where}" for value in PERSONAL if value.lower() in lowered]
    return found


@pytest.mark.e2e
async def test_no_personal_data_in_workflows_or_logs(stack: Stack) -> None:
    # DEBUG, stricter than the INFO that `configure_logging` sets: nothing to find even then.
    with logged(logging.DEBUG) as logs:
        app_id, seller_id, _ = await approved_seller(
            stack.http, stack.policy, signer=SIGNER, **APPLICANT
        )
    journey = [f"onboarding-{app_id}", f"seller-{seller_id}"]
    texts = await texts_once_visible(stack.temporal, stack.settings.temporal_task_queue, journey)
    assert all(any(key.startswith(wf) for key in texts) for wf in journey), sorted(texts)
    # Payloads carry ids only, so the journey's whole histories are free of it too.
    for workflow_id in journey:
        history = await stack.temporal.get_workflow_handle(workflow_id).fetch_history()
        texts[f"history of {workflow_id}"] = history.to_json()
    assert any(app_id in line for line in logs.lines), "is the log capture working?"
    found = leaks(texts) + leaks({f"log line {i}": line for i, line in enumerate(logs.lines)})
    assert not found, "\n".join(found)
