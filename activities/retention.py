"""Retention, run daily by a Temporal Schedule (`workflows.retention`): the personal data and
files of applications that ended without a seller (and of departed sellers whose erasure was
asked) are erased once due (`sellerflow.services.retention`), and the files uploaded after their
check, which nobody reads, are removed. Each erasure is its own transaction and repeatable: an
attempt cut short is finished by the next; the bucket is walked a listing page at a time, with a
heartbeat per page, so a large bucket costs time, not memory."""

import sqlalchemy as sa
from sqlmodel import Session
from temporalio import activity

from sellerflow.payloads import RetentionInput, RetentionResult
from sellerflow.policy.model import Policy
from sellerflow.services.retention import due_for_erasure, erase, stray_pages
from sellerflow.storage import ObjectStore


class RetentionActivities:
    def __init__(self, engine: sa.Engine, policy: Policy, store: ObjectStore) -> None:
        self.engine, self.policy, self.store = engine, policy, store

    @activity.defn
    def erase_due(self, inp: RetentionInput) -> RetentionResult:
        activity.heartbeat("erasing")
        erased = deleted = failed = removed = 0
        with Session(self.engine) as session:
            for item in due_for_erasure(session, self.policy, inp.at, inp.limit):
                try:
                    deleted += erase(session, self.store, item, inp.at)
                    erased += 1
                except Exception:  # one bad erasure must not hold back the others
                    session.rollback()
                    failed += 1
                    activity.logger.exception(
                        "erasure failed", extra={"application_id": str(item.application_id)}
                    )
                activity.heartbeat(f"erased {erased}")
            for strays in stray_pages(session, self.store):
                self.store.delete_many(strays)
                removed += len(strays)
                activity.heartbeat(f"stray uploads removed {removed}")
        if erased or failed or removed:
            activity.logger.info(
                "retention",
                extra={"erased": erased, "failed": failed, "stray_uploads_removed": removed},
            )
        return RetentionResult(
            erased=erased,
            failed=failed,
            objects_deleted=deleted,
            stray_uploads_removed=removed,
        )
