"""Load test: N applications driven concurrently through the whole journey over real HTTP.

Starts its own stack in a temporary directory (Temporal dev server, SeaweedFS, a fresh
PostgreSQL schema or SQLite file, the worker and the API under uvicorn as subprocesses). Then
applicants create applications, upload every due document straight to S3 with the presigned
POST, sign the agreements and submit, while automatic reviewers work the inbox: they approve,
reject (`--reject-fraction`) or request changes (`--changes-fraction`, the applicant then
uploads the refused document again and resubmits); SSM sign-off comes from a second person.
At the end the database, Temporal and S3 are reconciled. Prints one JSON line and exits 1 when
anything does not reconcile.

    python -m bench.load --applications 1000 --concurrency 50 [--reject-fraction 0.1]
        [--changes-fraction 0.05] [--db postgres|sqlite] [--workers 1] [--seed 7]
"""

import argparse
import asyncio
import contextlib
import json
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
import sqlalchemy as sa
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus

from bench.evaluation import POSTGRES_ADMIN_URL
from sellerflow.cli.devstack import (
    Process,
    free_port,
    seed_dev_users,
    spawn,
    start_s3,
    start_temporal,
    wait_for_port,
)
from sellerflow.config import Settings
from sellerflow.db import make_engine, upgrade_schema
from sellerflow.models import Application, Document, Seller, Signature, Task
from sellerflow.policy import vat
from sellerflow.search_attributes import STAGE
from sellerflow.services.email_confirmation import token_in
from sellerflow.storage import make_s3_client
from sellerflow.temporal import connect
from sellerflow.users import ensure_user
from sellerflow.vocabulary import SellerCategory

Outcome = Literal["approve", "reject", "changes"]
FINAL_STAGES = {"approved", "rejected", "withdrawn", "expired"}
APPLICANT_STAGES = {"draft", "changes_requested"}
DUE = {"currently_due", "past_due"}
# The body of a valid VAT number per EU country (`#` a random digit); the check digits are
# found by drawing until sellerflow.policy.vat accepts the number.
VAT_BODIES = {
    "DE": "#########",
    "FR": "###########",
    "IT": "###########",
    "NL": "#########B01",
    "PL": "##########",
    "BE": "0#########",
    "AT": "U########",
}
NON_EU = ["GB", "US", "CH", "NO"]
NAMES = ["Refurb", "Second Life", "Renew", "Circular", "Green Tech", "Phoenix", "Revive"]
PRODUCTS = ["smartphones", "laptops", "tablets", "appliances", "accessories"]
POLL_SECONDS = 2.0
PASSWORD = Settings().sellerflow_dev_password


@dataclass(frozen=True)
class LoadOptions:
    applications: int = 20
    concurrency: int = 10
    reject_fraction: float = 0.1
    changes_fraction: float = 0.05
    reviewers_per_role: int = 2
    db: Literal["postgres", "sqlite"] = "postgres"
    workers: int = 1
    seed: int = 7
    journey_timeout: float = 900
    settle_seconds: float = 120
    keep_workdir: bool = False


@dataclass(frozen=True)
class Applicant:
    body: dict[str, Any]
    outcome: Outcome
    eventually_due: bool  # also uploads the documents due only by the trial's end

    @property
    def expected_stage(self) -> str:
        return "rejected" if self.outcome == "reject" else "approved"


@dataclass
class Tracked:
    """One application as the driver knows it; the reviewers look up their plan here."""

    applicant: Applicant
    app_id: str | None = None
    documents: dict[str, str] = field(default_factory=dict)
    changes_task: str | None = None  # the review task that asked for changes
    final_stage: str | None = None
    error: str | None = None


@dataclass
class Stats:
    completion_ms: dict[str, list[float]] = field(default_factory=dict)  # the answered request
    decision_ms: list[float] = field(default_factory=list)  # first attempt to answer, retries in
    retries: int = 0  # 503 answers and broken GET connections
    not_yet_open: int = 0  # completions refused because the workflow had not taken the task
    submit_retries: int = 0
    claim_conflicts: int = 0
    reviewer_errors: int = 0
    resubmissions: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)  # answers that were retried


class JourneyFailed(Exception):
    pass


def valid_vat(country: str, rng: random.Random) -> str:
    body = VAT_BODIES[country]
    while True:
        digits = "".join(str(rng.randrange(10)) if c == "#" else c for c in body)
        if vat.is_valid(country, country + digits):
            return country + digits


def make_applicants(options: LoadOptions) -> list[Applicant]:
    """Varied, valid applicants: every category, EU and non-EU countries, unique names."""
    rng = random.Random(options.seed)
    categories = [c.value for c in SellerCategory]
    countries = [*VAT_BODIES, *NON_EU]
    applicants = []
    for number in range(options.applications):
        country = rng.choice(countries)
        draw = rng.random()
        outcome: Outcome = "approve"
        if draw < options.reject_fraction:
            outcome = "reject"
        elif draw < options.reject_fraction + options.changes_fraction:
            outcome = "changes"
        body = {
            "legal_name": f"{rng.choice(NAMES)} Works {number:05d} ({country})",
            "seller_category": categories[number % len(categories)],
            "country": country,
            "registration_number": f"REG-{country}-{number:07d}",
            "vat_number": valid_vat(country, rng) if country in VAT_BODIES else None,
            "contact_name": f"Contact Person {number}",
            "contact_email": f"applicant{number}@seller{number % 89}.example",
            "product_categories": rng.sample(PRODUCTS, rng.randint(1, 3)),
        }
        applicants.append(Applicant(body, outcome, eventually_due=rng.random() < 0.5))
    return applicants


def pdf_for(app_id: str, kind: str) -> bytes:
    """A small valid-looking PDF, different per document."""
    padding = b"0" * (1024 + sum(kind.encode()) % 1024)
    return b"%PDF-1.7\n% " + f"{app_id} {kind}".encode() + b"\n" + padding + b"\n%%EOF\n"


def taken(app: dict[str, Any], since: str) -> bool:
    """Whether the workflow took a submission made while the stage dated from `since`: the
    application left the applicant's stages, or changes were requested again since (a stage
    date alone proves nothing: the workflow dates draft again when it starts)."""
    return app["stage"] not in APPLICANT_STAGES or (
        app["stage"] == "changes_requested" and app["stage_entered_at"] != since
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Driver:
    """Applicants and reviewers sharing one HTTP client to the API and one to S3."""

    def __init__(self, api: httpx.AsyncClient, s3: httpx.AsyncClient, seed: int) -> None:
        self.api, self.s3 = api, s3
        self.tracked: dict[str, Tracked] = {}
        self.stats = Stats()
        self.done = asyncio.Event()
        self.rng = random.Random(seed)
        self.ops_auth: dict[str, str] | None = None

    async def call(
        self, method: str, path: str, *, expect: int, auth: dict[str, str] | None = None, **kw: Any
    ) -> Any:
        """One API request; a 503 (a workflow slow to answer) is retried, a broken GET too."""
        response: httpx.Response | None = None
        for _ in range(10):
            try:
                response = await self.api.request(method, path, headers=auth, **kw)
            except httpx.TransportError:
                if method != "GET":
                    raise
                response = None
            if response is not None and response.status_code != 503:
                break
            self.stats.retries += 1
            await asyncio.sleep(1)
        if response is None or response.status_code != expect:
            answer = f"{response.status_code}: {response.text[:300]}" if response else "no answer"
            raise JourneyFailed(f"{method} {path} -> {answer}")
        return response.json()

    # --- the applicant ---------------------------------------------------------------------

    async def journey(self, tracked: Tracked) -> None:
        created = await self.call(
            "POST", "/v1/applications", expect=201, json=tracked.applicant.body
        )
        app_id, auth = created["id"], bearer(created["applicant_token"])
        tracked.app_id = app_id
        self.tracked[app_id] = tracked
        await self.confirm_email(app_id)
        await self.satisfy(tracked, auth, created["requirements"], tracked.applicant.eventually_due)
        for _ in range(3):
            app = await self.call("GET", f"/v1/applications/{app_id}", expect=200, auth=auth)
            since = app["stage_entered_at"]
            await self.submit(app_id, auth, since)
            app = await self.wait_for_turn(app_id, auth, since)
            if app["stage"] in FINAL_STAGES:
                tracked.final_stage = app["stage"]
                return
            self.stats.resubmissions += 1
            await self.satisfy(tracked, auth, app["requirements"], eventually_due=False)
        raise JourneyFailed("changes requested three times")

    async def confirm_email(self, app_id: str) -> None:
        """Open the link of the first mail, read from the outbox as ops read it (no SMTP here)."""
        if self.ops_auth is None:
            login = {"username": "ops1", "password": PASSWORD}
            token = await self.call("POST", "/v1/auth/token", expect=200, data=login)
            self.ops_auth = bearer(token["access_token"])
        mail = {"application_id": app_id, "template": "application_received"}
        for _ in range(600):
            listed = await self.call(
                "GET", "/v1/ops/notifications", expect=200, auth=self.ops_auth, params=mail
            )
            found = [token_in(m["body_text"], app_id) for m in listed["data"]]
            token = next((t for t in found if t), None)
            if token:
                path = f"/v1/applications/{app_id}/email-confirmation"
                await self.call("POST", path, expect=200, json={"token": token})
                return
            await asyncio.sleep(0.1)
        raise JourneyFailed(f"no confirmation mail for {app_id}")

    async def satisfy(
        self, tracked: Tracked, auth: dict[str, str], requirements: list[Any], eventually_due: bool
    ) -> None:
        """Upload every due document and sign every due agreement."""
        for req in requirements:
            due = req["status"] in DUE or (eventually_due and req["status"] == "eventually_due")
            if not due:
                continue
            if req["type"] == "document":
                await self.upload(tracked, auth, req["code"])
            elif req["type"] == "agreement":
                await self.sign(tracked, auth, req["code"])
            else:
                raise JourneyFailed(f"requirement {req['code']} cannot be met: {req['errors']}")

    async def upload(self, tracked: Tracked, auth: dict[str, str], kind: str) -> None:
        app_id = str(tracked.app_id)
        data = pdf_for(app_id, kind)
        today = date.today()
        declared = await self.call(
            "POST",
            f"/v1/applications/{app_id}/documents",
            expect=201,
            auth=auth,
            json={
                "kind": kind,
                "filename": f"{kind}.pdf",
                "content_type": "application/pdf",
                "size_bytes": len(data),
                "issued_on": today.isoformat(),
                "expires_on": (today + timedelta(days=5 * 365)).isoformat(),
            },
        )
        form = declared["upload"]
        files = {"file": (f"{kind}.pdf", data, "application/pdf")}
        stored = await self.s3.post(form["url"], data=form["fields"], files=files)
        if stored.status_code not in (200, 201, 204):
            raise JourneyFailed(f"S3 upload -> {stored.status_code}: {stored.text[:300]}")
        doc_id = declared["document_id"]
        path = f"/v1/applications/{app_id}/documents/{doc_id}/complete"
        await self.call("POST", path, expect=200, auth=auth)
        tracked.documents[kind] = doc_id

    async def sign(self, tracked: Tracked, auth: dict[str, str], kind: str) -> None:
        agreement = await self.call("GET", f"/v1/agreements/{kind}", expect=200)
        body = {
            "kind": kind,
            "version": agreement["version"],
            "sha256": agreement["sha256"],
            "signer_name": tracked.applicant.body["contact_name"],
            "signer_title": "Managing director",
        }
        path = f"/v1/applications/{tracked.app_id}/agreements"
        await self.call("POST", path, expect=201, auth=auth, json=body)

    async def submit(self, app_id: str, auth: dict[str, str], since: str) -> None:
        """Submit; after a 503 or 409 the workflow may have taken it anyway, so look first."""
        for _ in range(5):
            response = await self.api.post(f"/v1/applications/{app_id}/submit", headers=auth)
            if response.status_code == 200:
                return
            if response.status_code not in (409, 503):
                raise JourneyFailed(f"submit -> {response.status_code}: {response.text[:300]}")
            self.stats.submit_retries += 1
            self.stats.refusals[f"submit {response.status_code}: {response.text[:120]}"] += 1
            for _ in range(5):
                app = await self.call("GET", f"/v1/applications/{app_id}", expect=200, auth=auth)
                if taken(app, since):
                    return
                await asyncio.sleep(POLL_SECONDS)
        raise JourneyFailed("the workflow never took the submission")

    async def wait_for_turn(self, app_id: str, auth: dict[str, str], since: str) -> dict[str, Any]:
        """The application once final, or once changes were requested after `since`."""
        while True:
            app: dict[str, Any] = await self.call(
                "GET", f"/v1/applications/{app_id}", expect=200, auth=auth
            )
            if app["stage"] in FINAL_STAGES:
                return app
            if app["stage"] == "changes_requested" and app["stage_entered_at"] != since:
                return app
            await asyncio.sleep(POLL_SECONDS)

    # --- the reviewers ---------------------------------------------------------------------

    async def review(self, username: str, kind: str) -> None:
        """Take unclaimed tasks of one kind, one at a time, until every journey has ended."""
        token = await self.call(
            "POST", "/v1/auth/token", expect=200, data={"username": username, "password": PASSWORD}
        )
        auth = bearer(token["access_token"])
        rng = random.Random(f"{username}-{self.rng.random()}")
        unclaimed = {"kind": kind, "assignee": "none", "limit": 50}
        recovering = False  # after an error, a task may be claimed by us and still open
        while not self.done.is_set():
            try:
                if recovering:
                    mine = {"kind": kind, "assignee": "me"}
                    listed = await self.call("GET", "/v1/tasks", expect=200, auth=auth, params=mine)
                    for task in listed["data"]:
                        await self.decide(auth, task)
                    recovering = False
                listed = await self.call(
                    "GET", "/v1/tasks", expect=200, auth=auth, params=unclaimed
                )
                if not listed["data"]:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.done.wait(), 0.25)
                    continue
                task = rng.choice(listed["data"])  # two reviewers rarely pick the same task
                claimed = await self.api.post(f"/v1/tasks/{task['id']}/claim", headers=auth)
                if claimed.status_code == 409:
                    self.stats.claim_conflicts += 1
                    continue
                if claimed.status_code != 200:
                    raise JourneyFailed(f"claim -> {claimed.status_code}: {claimed.text[:300]}")
                await self.decide(auth, task)
            except (JourneyFailed, httpx.HTTPError) as err:
                recovering = True
                self.stats.reviewer_errors += 1
                self.stats.errors[f"reviewer: {type(err).__name__}: {str(err)[:200]}"] += 1
                await asyncio.sleep(1)

    def decision_for(self, task: dict[str, Any]) -> dict[str, Any]:
        """The plan's decision; the same task always gets the same one (retries stay safe)."""
        tracked = self.tracked.get(str(task["application_id"]))
        if tracked is None:
            raise JourneyFailed(f"task {task['id']} is for an application the driver never made")
        outcome = tracked.applicant.outcome
        if task["kind"] == "ssm_signoff" or outcome == "approve":
            return {"decision": "approve"}
        if outcome == "reject":
            return {"decision": "reject", "reason_codes": ["registry_mismatch"]}
        if tracked.changes_task not in (None, task["id"]):
            return {"decision": "approve"}
        tracked.changes_task = task["id"]
        refused = tracked.documents["bank_account_proof"]
        return {
            "decision": "request_changes",
            "reason_codes": ["bank_account_mismatch"],
            "comment": "The account holder must be the company.",
            "document_verdicts": [
                {"document_id": refused, "accepted": False, "error_code": "bank_account_mismatch"}
            ],
        }

    async def decide(self, auth: dict[str, str], task: dict[str, Any]) -> None:
        """Complete a claimed task; a 503 or a broken connection is retried with the same
        idempotency key, so the workflow never gets the decision twice."""
        body = self.decision_for(task)
        headers = {**auth, "Idempotency-Key": f"load-{task['id']}"}
        path = f"/v1/tasks/{task['id']}/complete"
        started = time.perf_counter()
        response: httpx.Response | None = None
        for _ in range(20):
            with contextlib.suppress(httpx.TransportError):
                sent = time.perf_counter()
                response = await self.api.post(path, headers=headers, json=body)
                if response.status_code == 409 and "not open" in response.text:
                    # The inbox shows a task as soon as its row is written, a moment before the
                    # workflow takes decisions on it.
                    self.stats.not_yet_open += 1
                    self.stats.refusals[f"complete 409: {response.text[:120]}"] += 1
                elif response.status_code != 503:
                    break
                else:
                    self.stats.retries += 1
            await asyncio.sleep(0.5)
        if response is None or response.status_code != 200:
            answer = f"{response.status_code}: {response.text[:300]}" if response else "no answer"
            raise JourneyFailed(f"complete -> {answer}")
        now = time.perf_counter()
        self.stats.completion_ms.setdefault(task["kind"], []).append((now - sent) * 1000)
        self.stats.decision_ms.append((now - started) * 1000)

    # --- the run ---------------------------------------------------------------------------

    async def run(self, tracked: list[Tracked], options: LoadOptions) -> None:
        slots = asyncio.Semaphore(options.concurrency)

        async def one(item: Tracked) -> None:
            async with slots:
                try:
                    async with asyncio.timeout(options.journey_timeout):
                        await self.journey(item)
                except (JourneyFailed, httpx.HTTPError, TimeoutError) as err:
                    item.error = f"{type(err).__name__}: {str(err)[:200]}"
                    self.stats.errors[f"applicant: {item.error}"] += 1

        await asyncio.gather(*(one(item) for item in tracked))

    async def report_progress(self, tracked: list[Tracked]) -> None:
        while True:
            await asyncio.sleep(15)
            finished = sum(1 for t in tracked if t.final_stage or t.error)
            print(f"[load] {finished}/{len(tracked)} journeys ended", file=sys.stderr, flush=True)


def percentiles(values: list[float], digits: int = 1) -> dict[str, float | int]:
    if not values:
        return {"count": 0}
    cuts = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else []
    p50, p99 = (cuts[49], cuts[98]) if cuts else (values[0], values[0])
    return {
        "count": len(values),
        "p50": round(p50, digits),
        "p99": round(p99, digits),
        "max": round(max(values), digits),
    }


# --- reconciliation -------------------------------------------------------------------------


@dataclass
class Reconciliation:
    figures: dict[str, Any]
    mismatches: list[str]
    journey_seconds: list[float]


@dataclass
class DatabaseView:
    apps: dict[str, Application]
    sellers: set[str]
    document_keys: set[str]
    signature_keys: set[str]
    tasks: list[Task]


def read_database(engine: sa.Engine) -> DatabaseView:
    with Session(engine) as session:
        stored = select(Document.object_key).where(col(Document.stored_size).is_not(None))
        return DatabaseView(
            apps={str(a.id): a for a in session.exec(select(Application))},
            sellers={str(s) for s in session.exec(select(Seller.id))},
            document_keys=set(session.exec(stored)),
            signature_keys=set(session.exec(select(Signature.archive_key))),
            tasks=list(session.exec(select(Task))),
        )


def list_objects(settings: Settings) -> set[str]:
    s3 = make_s3_client(settings)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=settings.s3_bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


async def list_workflows(client: Client, workflow_type: str) -> dict[str, WorkflowExecution]:
    query = f"WorkflowType = '{workflow_type}'"
    return {wf.id: wf async for wf in client.list_workflows(query)}


async def wait_for_workflows(client: Client, unfinished: int, deadline: float) -> None:
    """Until only the onboarding workflows of unfinished journeys run (the others notify the
    applicant after entering their last stage, so they close a moment after the database)."""
    query = "WorkflowType = 'OnboardingWorkflow' AND ExecutionStatus = 'Running'"
    while (await client.count_workflows(query)).count > unfinished:
        if time.monotonic() > deadline:
            return
        await asyncio.sleep(1)


def compare_sets(name: str, expected: set[str], actual: set[str], out: list[str]) -> None:
    if expected != actual:
        missing, extra = sorted(expected - actual), sorted(actual - expected)
        out.append(f"{name}: {len(missing)} missing {missing[:3]}, {len(extra)} extra {extra[:3]}")


def check_applications(
    tracked: list[Tracked], db: DatabaseView, onboarding: dict[str, WorkflowExecution]
) -> list[str]:
    """Every application in its expected stage in the database and in Temporal."""
    out = []
    for item in tracked:
        if item.app_id is None:
            out.append(f"journey failed before creating its application: {item.error}")
            continue
        expected, app = item.applicant.expected_stage, db.apps.get(item.app_id)
        wf = onboarding.get(f"onboarding-{item.app_id}")
        if app is None or app.stage != expected:
            out.append(f"{item.app_id}: DB stage {app and app.stage}, expected {expected}")
        stage = wf.typed_search_attributes.get(STAGE) if wf else None
        if wf is None or wf.status != WorkflowExecutionStatus.COMPLETED or stage != expected:
            status = wf.status.name if wf and wf.status else None
            out.append(f"{item.app_id}: Temporal {status} at {stage}, expected {expected}")
        if item.error:
            out.append(f"{item.app_id}: journey failed: {item.error}")
    return out


def check_tasks(
    db: DatabaseView, workflow_ids: set[str], reviewer_completions: int
) -> tuple[dict[str, int], list[str]]:
    """No open or orphaned task; every completion the reviewers made recorded; four eyes."""
    out = []
    status = Counter(t.status for t in db.tasks)
    orphans = [t for t in db.tasks if t.workflow_id not in workflow_ids]
    if status["open"]:
        out.append(f"{status['open']} tasks still open")
    if orphans:
        out.append(f"{len(orphans)} tasks without their workflow, e.g. {orphans[0].workflow_id}")
    if status["completed"] != reviewer_completions:
        out.append(
            f"{status['completed']} completed tasks, reviewers completed {reviewer_completions}"
        )
    approvers = {
        t.application_id: t.completed_by
        for t in sorted(db.tasks, key=lambda t: t.completed_at or t.created_at)
        if t.kind == "onboarding_review" and t.decision == "approve"
    }
    same = [
        t
        for t in db.tasks
        if t.kind == "ssm_signoff" and t.completed_by == approvers.get(t.application_id)
    ]
    if same:
        out.append(f"{len(same)} sign-offs by the reviewer who approved")
    figures = {
        "tasks_open": status["open"],
        "tasks_completed": status["completed"],
        "tasks_cancelled": status["cancelled"],
        "tasks_orphaned": len(orphans),
    }
    return figures, out


async def check_once(
    client: Client, settings: Settings, engine: sa.Engine, tracked: list[Tracked], stats: Stats
) -> Reconciliation:
    db = await asyncio.to_thread(read_database, engine)
    objects = await asyncio.to_thread(list_objects, settings)
    onboarding = await list_workflows(client, "OnboardingWorkflow")
    sellers = await list_workflows(client, "SellerWorkflow")
    running = {i for i, wf in sellers.items() if wf.status == WorkflowExecutionStatus.RUNNING}
    mismatches = check_applications(tracked, db, onboarding)
    if len(db.apps) != len(onboarding):
        mismatches.append(f"{len(db.apps)} applications in DB, {len(onboarding)} in Temporal")
    compare_sets(
        "onboarding workflows", {f"onboarding-{a}" for a in db.apps}, set(onboarding), mismatches
    )
    compare_sets(
        "running seller workflows", {f"seller-{s}" for s in db.sellers}, running, mismatches
    )
    approved = sum(1 for t in tracked if t.applicant.expected_stage == "approved")
    if len(db.sellers) != approved:
        mismatches.append(f"{len(db.sellers)} sellers in DB, {approved} approvals expected")
    documents = {k for k in objects if "/documents/" in k}
    signatures = {k for k in objects if "/agreements/" in k}
    compare_sets("document objects", db.document_keys, documents, mismatches)
    compare_sets("agreement objects", db.signature_keys, signatures, mismatches)
    completions = sum(len(v) for v in stats.completion_ms.values())
    task_figures, task_mismatches = check_tasks(db, set(onboarding) | set(sellers), completions)
    stages = Counter(a.stage for a in db.apps.values())
    figures = {
        "db_applications": len(db.apps),
        "db_stages": dict(sorted(stages.items())),
        "temporal_onboarding_workflows": len(onboarding),
        "db_sellers": len(db.sellers),
        "temporal_seller_workflows_running": len(running),
        "db_documents_stored": len(db.document_keys),
        "s3_document_objects": len(documents),
        "db_signatures": len(db.signature_keys),
        "s3_agreement_objects": len(signatures),
        "s3_objects": len(objects),
        **task_figures,
    }
    journeys = [
        (a.stage_entered_at - a.created_at).total_seconds()
        for a in db.apps.values()
        if a.stage in FINAL_STAGES
    ]
    return Reconciliation(figures, mismatches + task_mismatches, journeys)


async def reconcile(
    settings: Settings, tracked: list[Tracked], stats: Stats, settle_seconds: float
) -> Reconciliation:
    """Check until everything agrees or `settle_seconds` pass (Temporal's visibility lags)."""
    started = time.monotonic()
    deadline = started + settle_seconds
    client = await connect(settings)
    engine = make_engine(settings.database_url)
    try:
        unfinished = sum(1 for t in tracked if t.app_id and not t.final_stage)
        await wait_for_workflows(client, unfinished, deadline)
        previous: list[list[str]] = []
        while True:
            check = await check_once(client, settings, engine, tracked, stats)
            previous = [*previous[-2:], check.mismatches]
            # Visibility catches up within seconds: three equal answers in a row are final.
            settled = len(previous) == 3 and all(m == previous[0] for m in previous)
            if not check.mismatches or settled or time.monotonic() > deadline:
                check.figures["reconcile_seconds"] = round(time.monotonic() - started, 1)
                return check
            await asyncio.sleep(2)
    finally:
        engine.dispose()


# --- the stack ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stack:
    settings: Settings
    api_url: str


@contextlib.contextmanager
def postgres_schema(_: Path) -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards."""
    schema = f"sf_load_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_ADMIN_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES_ADMIN_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@contextlib.contextmanager
def sqlite_file(workdir: Path) -> Iterator[str]:
    yield f"sqlite:///{workdir / 'sellerflow.db'}"


def prepare_database(settings: Settings, reviewers_per_role: int) -> None:
    upgrade_schema(settings.database_url)
    seed_dev_users(settings)
    engine = make_engine(settings.database_url)
    for number in range(3, reviewers_per_role + 1):
        for role in ("onboarding", "ssm"):
            ensure_user(engine, f"{role}{number}", [role], PASSWORD)
    engine.dispose()


def wait_until_ready(api_url: str, processes: list[Process], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.proc.poll() is not None:
                raise RuntimeError(f"{process.name} exited with {process.proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{api_url}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise TimeoutError(f"the API at {api_url} was not ready within {timeout} s")


@contextlib.contextmanager
def stopping_all(processes: list[Process]) -> Iterator[list[Process]]:
    """Stop in reverse order; SeaweedFS ignores SIGINT for long, and its data is thrown away."""
    try:
        yield processes
    finally:
        for process in reversed(processes):
            process.stop(timeout=2 if process.name == "s3" else 10)


@contextlib.contextmanager
def running_stack(options: LoadOptions, workdir: Path) -> Iterator[Stack]:
    """Every server on free ports; all of them stopped on the way out, also on errors."""
    database = postgres_schema if options.db == "postgres" else sqlite_file
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(database(workdir))
        temporal_port, s3_port, api_port = free_port(), free_port(), free_port()
        api_url = f"http://127.0.0.1:{api_port}"
        # The same values for this process and, as environment, for the worker and the API;
        # outside ones (SMTP, a public S3 address) must not leak into the run.
        values = {
            "database_url": url,
            "temporal_address": f"127.0.0.1:{temporal_port}",
            "temporal_namespace": "default",
            "temporal_task_queue": f"load-{uuid.uuid4().hex[:8]}",
            "s3_endpoint_url": f"http://127.0.0.1:{s3_port}",
            "s3_public_endpoint_url": "",
            "sellerflow_policy": "default",
            "sellerflow_public_url": api_url,
            "smtp_url": "",
            # Every journey comes from one address, most with one e-mail: no creation limits.
            "applications_per_address_per_hour": "0",
            "applications_per_email_per_day": "0",
        }
        settings = Settings(**values)  # type: ignore[arg-type]
        names = ["temporal", "s3", "api", *(f"worker{i}" for i in range(options.workers))]
        logs = {n: stack.enter_context((workdir / f"{n}.log").open("w")) for n in names}
        processes: list[Process] = stack.enter_context(stopping_all([]))
        with ThreadPoolExecutor(max_workers=3) as pool:
            temporal = pool.submit(start_temporal, port=temporal_port, log=logs["temporal"])
            s3 = pool.submit(
                start_s3, data_dir=workdir / "s3", port=s3_port, settings=settings, log=logs["s3"]
            )
            schema = pool.submit(prepare_database, settings, options.reviewers_per_role)
            for future in (temporal, s3):
                with contextlib.suppress(Exception):  # raised again below, after collecting both
                    processes.append(future.result())
            temporal.result()
            s3.result()
            schema.result()
        env, python = {name.upper(): value for name, value in values.items()}, sys.executable
        for number in range(options.workers):
            metrics_port = free_port()
            worker = spawn(
                f"worker{number}",
                [python, "worker.py"],
                env={**env, "WORKER_METRICS_PORT": str(metrics_port)},
                log=logs[f"worker{number}"],
            )
            processes.append(worker)
            wait_for_port(metrics_port, worker.proc, worker.name)
        uvicorn = [python, "-m", "uvicorn", "api.main:app", "--no-access-log"]
        uvicorn += ["--host", "127.0.0.1", "--port", str(api_port)]
        processes.append(spawn("api", uvicorn, env=env, log=logs["api"]))
        wait_until_ready(api_url, processes)
        yield Stack(settings, api_url)


# --- main -----------------------------------------------------------------------------------


async def drive(options: LoadOptions, stack: Stack) -> tuple[list[Tracked], Stats, float]:
    tracked = [Tracked(applicant) for applicant in make_applicants(options)]
    reviewers = options.reviewers_per_role
    # Idle connections are dropped before uvicorn's 5-second keep-alive ends, so a request
    # never goes out on a connection the server is closing.
    limits = httpx.Limits(
        max_connections=options.concurrency + 2 * reviewers + 10, keepalive_expiry=2
    )
    timeout = httpx.Timeout(60)
    async with (
        httpx.AsyncClient(base_url=stack.api_url, limits=limits, timeout=timeout) as api,
        httpx.AsyncClient(limits=limits, timeout=timeout) as s3,
    ):
        driver = Driver(api, s3, options.seed)
        staff = [
            asyncio.create_task(driver.review(f"{role}{number}", kind))
            for role, kind in (("onboarding", "onboarding_review"), ("ssm", "ssm_signoff"))
            for number in range(1, reviewers + 1)
        ]
        progress = asyncio.create_task(driver.report_progress(tracked))
        started = time.perf_counter()
        try:
            await driver.run(tracked, options)
        finally:
            wall = time.perf_counter() - started
            driver.done.set()
            progress.cancel()
            await asyncio.gather(*staff, progress, return_exceptions=True)
    return tracked, driver.stats, wall


def run_load(options: LoadOptions) -> dict[str, Any]:
    """Start the stack, drive the load, reconcile; the result is what the JSON line prints."""
    workdir = Path(tempfile.mkdtemp(prefix="sellerflow-load-"))
    result: dict[str, Any] = {"reconciled": False}
    try:
        started = time.perf_counter()
        with running_stack(options, workdir) as stack:
            setup = time.perf_counter() - started
            tracked, stats, wall = asyncio.run(drive(options, stack))
            check = asyncio.run(reconcile(stack.settings, tracked, stats, options.settle_seconds))
        ended = [t for t in tracked if t.final_stage is not None]
        completions = [ms for values in stats.completion_ms.values() for ms in values]
        result = {
            **{k: v for k, v in asdict(options).items() if k != "keep_workdir"},
            "setup_seconds": round(setup, 1),
            "wall_seconds": round(wall, 1),
            "journeys_completed": len(ended),
            "journeys_failed": sum(1 for t in tracked if t.error),
            "throughput_journeys_per_second": round(len(ended) / wall, 2) if wall else 0,
            "task_completion_ms": percentiles(completions),
            "task_completion_with_retries_ms": percentiles(stats.decision_ms),
            "task_completion_ms_by_kind": {
                kind: percentiles(values) for kind, values in sorted(stats.completion_ms.items())
            },
            "journey_seconds": percentiles(check.journey_seconds, digits=2),
            "resubmissions": stats.resubmissions,
            "retries": stats.retries,
            "not_yet_open_retries": stats.not_yet_open,
            "submit_retries": stats.submit_retries,
            "claim_conflicts": stats.claim_conflicts,
            "reviewer_errors": stats.reviewer_errors,
            "errors": dict(stats.errors.most_common(5)),
            "refusals": dict(stats.refusals.most_common(5)),
            **check.figures,
            "reconciled": not check.mismatches,
            "mismatches": check.mismatches[:20],
            "mismatch_count": len(check.mismatches),
        }
    except BaseException:
        print(f"[load] logs kept in {workdir}", file=sys.stderr)
        raise
    finally:
        if result["reconciled"] and not options.keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            result["workdir"] = str(workdir)
    return result


def parse_args(argv: list[str] | None) -> LoadOptions:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--applications", type=int, default=LoadOptions.applications)
    parser.add_argument("--concurrency", type=int, default=LoadOptions.concurrency)
    parser.add_argument("--reject-fraction", type=float, default=LoadOptions.reject_fraction)
    parser.add_argument("--changes-fraction", type=float, default=LoadOptions.changes_fraction)
    parser.add_argument("--reviewers-per-role", type=int, default=LoadOptions.reviewers_per_role)
    parser.add_argument("--db", choices=["postgres", "sqlite"], default=LoadOptions.db)
    parser.add_argument("--workers", type=int, default=LoadOptions.workers, help="processes")
    parser.add_argument("--seed", type=int, default=LoadOptions.seed)
    parser.add_argument("--journey-timeout", type=float, default=LoadOptions.journey_timeout)
    parser.add_argument("--settle-seconds", type=float, default=LoadOptions.settle_seconds)
    parser.add_argument("--keep-workdir", action="store_true", help="keep logs and S3 data")
    return LoadOptions(**vars(parser.parse_args(argv)))


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # stop the servers on kill, as on Ctrl-C
    try:
        result = run_load(options)
    except KeyboardInterrupt:
        print("interrupted; every server stopped", file=sys.stderr)
        return 130
    print(json.dumps(result), flush=True)
    return 0 if result["reconciled"] else 1


if __name__ == "__main__":
    sys.exit(main())
