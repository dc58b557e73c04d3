"""The append-only audit log: who did what to which record, from what to what, and why."""

from datetime import datetime

from sqlmodel import Session, col, select

from sellerflow.models import AuditLog


def record(
    session: Session,
    *,
    key: str,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: str,
    before: str | None = None,
    after: str | None = None,
    reason: str = "",
    at: datetime | None = None,
) -> None:
    """Append one row; a row with the same key (a retried activity) is not written twice."""
    exists = session.exec(
        select(col(AuditLog.id)).where(col(AuditLog.idempotency_key) == key)
    ).first()
    if exists:
        return
    row = AuditLog(
        idempotency_key=key,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        before=before,
        after=after,
        reason=reason[:4000],
    )
    if at is not None:
        row.at = at
    session.add(row)
