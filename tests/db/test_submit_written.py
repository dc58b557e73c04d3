"""A submit answers once the stage it led to is in the database.

The workflow answers its update as it enters `submitted`, a moment before its activity writes
it; the document routes refuse a late file by the stage they read in the database. Under load a
file completed in that moment was taken (test_uploads' late document, found in a full run)."""

import threading
import uuid
from datetime import UTC, datetime
from typing import Any, cast

import pytest
import sqlalchemy as sa
from sqlmodel import Session
from temporalio.client import Client

from sellerflow.models import Application
from sellerflow.policy.model import Policy
from sellerflow.services import applications
from sellerflow.vocabulary import Stage
from tests.support.builders import application_row

WRITE_AFTER_SECONDS = 0.5


class AnswersBeforeItsWrite:
    """A Temporal client whose submit answers at once and writes the stage a little later."""

    def __init__(self, engine: sa.Engine, application_id: uuid.UUID) -> None:
        self.engine, self.application_id = engine, application_id

    def get_workflow_handle(self, workflow_id: str) -> "AnswersBeforeItsWrite":
        return self

    async def execute_update(self, update: object, arg: object) -> str:
        threading.Timer(WRITE_AFTER_SECONDS, self._write).start()
        return Stage.submitted.value

    def _write(self) -> None:
        with Session(self.engine) as session:
            app = session.get(Application, self.application_id)
            assert app is not None
            app.stage, app.stage_entered_at = Stage.submitted, datetime.now(UTC)
            session.add(app)
            session.commit()


async def test_the_answer_waits_for_the_stage_to_be_written(
    engine: sa.Engine, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(applications, "unmet", lambda requirements: [])  # not the subject
    with Session(engine) as session:
        app = application_row(policy.version)
        session.add(app)
        session.commit()
        app_id = app.id
        client = cast(Client, AnswersBeforeItsWrite(engine, app_id))

        answered = await applications.submit(session, client, policy, app)

    with Session(engine) as session:
        stored: Any = session.get(Application, app_id)
        assert (answered, stored.stage) == ("submitted", Stage.submitted)
