"""S3 or the database away for a while: the applicant and the staff get answers (never a 500),
the workflow's activities retry, and everything continues once the dependency is back."""

import hashlib
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from sqlmodel import Session

from activities.onboarding import OnboardingActivities
from sellerflow.models import Document
from sellerflow.payloads import SubmitInput
from sellerflow.policy.requirements import required_agreements, required_documents
from sellerflow.vocabulary import SellerCategory
from tests.conftest import Stack, make_settings, running_stack
from tests.faults.outages import (
    S3Server,
    TcpProxy,
    record_statuses,
    retrying_activity,
)
from tests.journey import (
    APPLICATION,
    PDF,
    complete_application,
    create_application,
    declare_document,
    post_signature,
    post_to_s3,
    sign,
    staff_token,
    upload,
    wait_for_stage,
    wait_for_task,
)
from tests.mailbox import Mailbox
from tests.support.fakes import activity_name
from workflows.onboarding import OnboardingWorkflow


def required_kinds(stack: Stack) -> list[str]:
    return required_documents(stack.policy, SellerCategory(APPLICATION["seller_category"]), "DE")


def requirement(body: dict[str, Any], code: str) -> dict[str, Any]:
    return dict(next(r for r in body["requirements"] if r["code"] == code))


def stored_document(stack: Stack, document_id: str) -> Document:
    with Session(stack.engine) as session:
        doc = session.get(Document, uuid.UUID(document_id))
        assert doc is not None
        return doc


def is_unavailable(response: httpx.Response) -> bool:
    body = response.json()
    return (
        response.status_code == 503
        and set(body) == {"error", "detail"}
        and (body["error"] == "ServiceUnavailable")
    )


async def test_s3_down_while_a_document_is_checked(
    tmp_path: Path, temporal_address: str, mailbox: Mailbox
) -> None:
    with S3Server(tmp_path / "s3") as s3:
        settings = make_settings(tmp_path, temporal_address, s3.endpoint, smtp_url=mailbox.url)

        async with running_stack(settings, mailbox) as stack:
            http = stack.http
            answers = record_statuses(http)
            app_id, auth = await create_application(http)
            *kinds, last = required_kinds(stack)
            for kind in kinds:
                assert (await upload(http, app_id, auth, kind)).status_code == 200
            for kind in required_agreements(stack.policy, "DE"):
                await sign(http, app_id, auth, kind)
            declared = (await declare_document(http, app_id, auth, last)).json()
            document_id = declared["document_id"]
            stored = await post_to_s3(declared["upload"], PDF, "application/pdf")
            assert stored.status_code in (200, 201, 204), stored.text

            s3.stop()
            completed = await http.post(
                f"/v1/applications/{app_id}/documents/{document_id}/complete", headers=auth
            )
            assert completed.status_code == 200, completed.text
            assert completed.json()["status"] == "uploaded"
            assert completed.json()["sha256"] is None, "not checked while S3 is down"
            app = (await http.get(f"/v1/applications/{app_id}", headers=auth)).json()
            assert requirement(app, last)["status"] == "pending_verification"
            # Another request that needs S3: an answer to retry, not a crash.
            signing = await post_signature(http, app_id, auth, "terms")
            assert is_unavailable(signing), signing.text

            submitted = await http.post(f"/v1/applications/{app_id}/submit", headers=auth)
            assert submitted.status_code == 200, submitted.text
            await wait_for_stage(http, auth, app_id, "verifying")
            pending = await retrying_activity(
                stack.temporal, f"onboarding-{app_id}", lambda m: "S3 unavailable" in m
            )
            # The move into verifying runs the checks, once it has written the stages.
            assert pending.activity_type.name == activity_name(OnboardingActivities.transition)
            assert stored_document(stack, document_id).sha256 is None

            s3.start()
            onboarding1 = await staff_token(http, "onboarding1")
            await wait_for_task(http, onboarding1, "onboarding_review", subject=app_id)
            await wait_for_stage(http, auth, app_id, "onboarding_review")
            checked = stored_document(stack, document_id)
            assert checked.sha256 == hashlib.sha256(PDF).hexdigest()
            assert checked.stored_size == len(PDF)
            assert checked.status == "verified"
            server_errors = [answer for answer in answers if answer[1] >= 500]
            assert server_errors == [(f"POST /v1/applications/{app_id}/agreements", 503)]


def through_proxy(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(url)
    netloc = (
        f"{parts.username}@127.0.0.1:{proxy.port}" if parts.username else f"127.0.0.1:{proxy.port}"
    )
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.mark.postgres
async def test_database_unreachable_for_a_while(
    tmp_path: Path,
    temporal_address: str,
    s3_endpoint: str,
    postgres_url: str,
    mailbox: Mailbox,
) -> None:
    target = urlsplit(postgres_url)
    with TcpProxy(target.hostname or "127.0.0.1", target.port or 5432) as proxy:
        settings = make_settings(
            tmp_path,
            temporal_address,
            s3_endpoint,
            database_url=through_proxy(postgres_url, proxy),
            smtp_url=mailbox.url,
        )
        async with running_stack(settings, mailbox) as stack:
            http = stack.http
            answers = record_statuses(http)
            reviewed_id, reviewed_auth = await create_application(http)
            await complete_application(
                http, stack.policy, reviewed_id, reviewed_auth, with_eventually_due=False
            )
            submitted = await http.post(
                f"/v1/applications/{reviewed_id}/submit", headers=reviewed_auth
            )
            assert submitted.status_code == 200, submitted.text
            onboarding1 = await staff_token(http, "onboarding1")
            task = await wait_for_task(http, onboarding1, "onboarding_review", subject=reviewed_id)
            waiting_id, waiting_auth = await create_application(http)
            await complete_application(
                http, stack.policy, waiting_id, waiting_auth, with_eventually_due=False
            )

            proxy.down()
            created = await http.post("/v1/applications", json=APPLICATION)
            assert is_unavailable(created), created.text
            claimed = await http.post(f"/v1/tasks/{task['id']}/claim", headers=onboarding1)
            assert is_unavailable(claimed), claimed.text
            decided = await http.post(
                f"/v1/tasks/{task['id']}/complete",
                headers=onboarding1,
                json={"decision": "approve"},
            )
            assert is_unavailable(decided), decided.text
            # The applicant's submit reaches the workflow without the API (which needs the
            # database): its next activities need the database and must retry.
            waiting = stack.temporal.get_workflow_handle(f"onboarding-{waiting_id}")
            await waiting.signal(OnboardingWorkflow.submit_signal, SubmitInput())
            pending = await retrying_activity(
                stack.temporal,
                f"onboarding-{waiting_id}",
                lambda failure: failure.startswith("database unavailable"),
            )
            assert pending.activity_type.name == activity_name(OnboardingActivities.transition)
            assert proxy.dropped > 0

            proxy.up()
            claimed = await http.post(f"/v1/tasks/{task['id']}/claim", headers=onboarding1)
            assert claimed.status_code == 200, claimed.text
            decided = await http.post(
                f"/v1/tasks/{task['id']}/complete",
                headers=onboarding1,
                json={"decision": "approve"},
            )
            assert decided.status_code == 200, decided.text
            await wait_for_stage(http, reviewed_auth, reviewed_id, "ssm_signoff")
            await wait_for_task(http, onboarding1, "onboarding_review", subject=waiting_id)
            await wait_for_stage(http, waiting_auth, waiting_id, "onboarding_review")
            server_errors = [answer for answer in answers if answer[1] >= 500]
            assert server_errors == [
                ("POST /v1/applications", 503),
                (f"POST /v1/tasks/{task['id']}/claim", 503),
                (f"POST /v1/tasks/{task['id']}/complete", 503),
            ]
