"""Retention, run daily by a Temporal Schedule (`workflows.retention`): the personal data and
files of applications that ended without a seller are erased once the policy's period has
passed (`sellerflow.services.retention`), and the files uploaded after their check, which
nobody reads, are removed. Each erasure is its own transaction and repeatable: an attempt cut
short is finished by the next."""

import sqlalchemy as sa
from sqlmodel import Session
from temporalio import activity

from sellerflow.payloads import RetentionInput, RetentionResult
from sellerflow.policy.model import Policy
from sellerflow.services.retention import due_for_erasure, erase, stray_uploads
from sellerflow.storage import ObjectStore


class RetentionActivities:
    def __init__(self, engine: sa.Engine, policy: Policy, store: ObjectStore) -> None:
        self.engine, self.policy, self.store = engine, policy, store

    @activity.defn
    def erase_due(self, inp: RetentionInput) -> RetentionResult:
        erased = deleted = 0
        with Session(self.engine) as session:
            for item in due_for_erasure(session, self.policy, inp.at, inp.limit):
                deleted += erase(session, self.store, item, inp.at)
                erased += 1
                activity.heartbeat(erased)
            strays = stray_uploads(session, self.store.keys_under("applications/"))
        for key in strays:
            self.store.delete(key)
        if erased or strays:
            activity.logger.info(
                "retention", extra={"erased": erased, "stray_uploads_removed": len(strays)}
            )
        return RetentionResult(
            erased=erased, objects_deleted=deleted, stray_uploads_removed=len(strays)
        )
