"""Schemathesis against the live `/openapi.json`: every operation, as an applicant, as a seller
(its own account's token) and as staff (onboarding, ops), with a bounded number of generated
requests, valid ones and invalid ones (tests/attacks/openapi_fuzz.py says how many). No answer
is a 5xx, and every answer is one the schema documents: its status code, content type, headers
and body; invalid input is refused.

Path ids are sometimes the real objects of a prepared world (an application with an uploaded
document, a submitted application with its review task, a seller, an evaluation run), so the
requests reach the code behind the 404s, and sometimes generated ones.
"""

import asyncio
import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from sellerflow.models import EvaluationRun
from sellerflow.security import issue_token
from tests.journey import (
    bearer,
    complete_application,
    create_application,
    upload,
    wait_for_task,
)
from tests.serve import Site
from tests.support.builders import add_seller_with_account, seller_bearer_token

PROJECT = Path(__file__).parents[2]
# Invalid requests as ops only, to bound the time: its token passes the authentication of every
# route, so they reach the validation of nearly all (owner checks come after it).
MODES = {
    "applicant": ["positive"],
    "seller": ["positive"],
    "onboarding": ["positive"],
    "ops": ["positive", "negative"],
}


@dataclass
class World:
    auth: dict[str, dict[str, str]]
    ids: dict[str, dict[str, str]]


async def build_world(live: Site) -> World:
    """A draft application for the applicant, a submitted one with its task for the staff."""
    draft_id, applicant = await create_application(live.http, settings=live.settings)
    uploaded = await upload(live.http, draft_id, applicant, "company_registration_extract")
    assert uploaded.status_code == 200, uploaded.text

    submitted_id, owner = await create_application(
        live.http, settings=live.settings, legal_name="Submitted Ltd"
    )
    await complete_application(live.http, live.policy, submitted_id, owner)
    sent = await live.http.post(f"/v1/applications/{submitted_id}/submit", headers=owner)
    assert sent.status_code == 200, sent.text
    documents = await live.http.get(f"/v1/applications/{submitted_id}/documents", headers=owner)
    secret = live.settings.sellerflow_secret_key
    staff = {
        role: bearer(issue_token(secret, f"{role}1", kind="staff", minutes=30, roles=[role]))
        for role in ("onboarding", "ops")
    }
    onboarding = staff["onboarding"]
    task = await wait_for_task(live.http, onboarding, "onboarding_review", subject=submitted_id)
    seller_id, evaluation_id = uuid.uuid4(), f"evaluation-{uuid.uuid4()}"
    with Session(live.engine) as session:
        seller_id, account_id = add_seller_with_account(
            session, submitted_id, "fuzz@example.com", id=seller_id, legal_name="Submitted Ltd"
        )
        session.add(EvaluationRun(id=evaluation_id))
        session.commit()
    seller = bearer(seller_bearer_token(secret, seller_id, account_id))
    staff_ids = {
        "application_id": submitted_id,
        "document_id": documents.json()["data"][0]["document_id"],
        "task_id": task["id"],
        "seller_id": str(seller_id),
        "evaluation_id": evaluation_id,
        "kind": "terms",
    }
    applicant_ids = {
        "application_id": draft_id,
        "document_id": uploaded.json()["document_id"],
        "kind": "terms",
    }
    seller_ids = {"seller_id": str(seller_id), "kind": "terms"}
    return World(
        auth={"applicant": applicant, "seller": seller, **staff},
        ids={
            "applicant": applicant_ids,
            "seller": seller_ids,
            "onboarding": staff_ids,
            "ops": staff_ids,
        },
    )


async def fuzz(world: World, url: str, tmp_path: Path) -> dict[str, Any]:
    """tests/attacks/openapi_fuzz.py in its own process; the worker goes on meanwhile."""
    job, outcome = tmp_path / "job.json", tmp_path / "outcome.json"
    callers = {
        name: {"auth": world.auth[name], "ids": world.ids[name], "modes": modes}
        for name, modes in MODES.items()
    }
    job.write_text(json.dumps({"url": url, "callers": callers}))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.attacks.openapi_fuzz",
        str(job),
        str(outcome),
        cwd=PROJECT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout=240)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, output.decode(errors="replace")[-5000:]
    results: dict[str, Any] = json.loads(outcome.read_text())
    return results


@pytest.mark.e2e
async def test_no_operation_answers_a_5xx_or_off_its_schema(live: Site, tmp_path: Path) -> None:
    world = await build_world(live)
    results = await fuzz(world, live.url, tmp_path)
    failures: list[str] = []
    for caller in MODES:
        statuses, found = results[caller]["statuses"], results[caller]["failures"]
        failures += [f"as {caller}: {failure}" for failure in found]
        assert len(statuses) >= 30, f"as {caller}, some operations were never called"
        real = [op for op, codes in statuses.items() if "{" in op and 200 in codes]
        assert real, f"as {caller}, no request reached a real object"
    assert not failures, "\n\n".join(failures)
