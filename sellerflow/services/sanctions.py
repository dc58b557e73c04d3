"""Sanctions lists: loading a list file, screening an application against the newest list,
and screening again every active seller and open application when a new list is loaded."""

import hashlib
import io
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from sellerflow.models import (
    Application,
    SanctionsListLoad,
    Seller,
    utcnow,
)
from sellerflow.policy.checks import CheckOutcome
from sellerflow.policy.matching import normalised_name
from sellerflow.policy.model import CheckRules
from sellerflow.policy.sanctions import ListedName, sanctions_check, screen
from sellerflow.sanctions_list import entities, generation_date
from sellerflow.services.checks import record_checks
from sellerflow.tables import SANCTIONS_ALIASES as ALIASES
from sellerflow.tables import SANCTIONS_ENTRIES as ENTRIES
from sellerflow.vocabulary import FINAL_STAGES, CheckStatus, SellerStatus, Stage


def load_list(session: Session, data: bytes, source: str) -> SanctionsListLoad:
    """Store a list file's entries and names as a new load (the newest is the one screened)."""
    load = SanctionsListLoad(
        source=source[:200],
        generated=generation_date(io.BytesIO(data)),
        sha256=hashlib.sha256(data).hexdigest(),
        loaded_at=utcnow(),
    )
    session.add(load)
    session.flush()
    conn = session.connection()
    for entity in entities(io.BytesIO(data)):
        entry_id = uuid.uuid4()
        conn.execute(
            sa.insert(ENTRIES).values(
                id=entry_id,
                load_id=load.id,
                logical_id=entity.logical_id[:64],
                reference=(entity.reference or "")[:64] or None,
                subject_type=entity.subject_type[:32],
                name=entity.names[0][:500],
            )
        )
        conn.execute(
            sa.insert(ALIASES),
            [
                {
                    "id": uuid.uuid4(),
                    "entry_id": entry_id,
                    "whole_name": name[:500],
                    "normalised": normalised_name(name)[:500],
                }
                for name in entity.names
            ],
        )
        load.entries += 1
    session.add(load)
    return load


def newest_list(session: Session) -> tuple[str | None, list[ListedName]]:
    """The newest load's label and every name of its entries (None: no list loaded)."""
    load = session.exec(
        select(SanctionsListLoad).order_by(col(SanctionsListLoad.loaded_at).desc()).limit(1)
    ).first()
    if load is None:
        return None, []
    rows = session.connection().execute(
        sa.select(
            ENTRIES.c.logical_id,
            ENTRIES.c.reference,
            ENTRIES.c.subject_type,
            ENTRIES.c.name,
            ALIASES.c.whole_name,
            ALIASES.c.normalised,
        )
        .join(ALIASES, ALIASES.c.entry_id == ENTRIES.c.id)
        .where(ENTRIES.c.load_id == load.id)
    )
    names = [ListedName(*row) for row in rows]
    return f"{load.source}, generated {load.generated or 'undated'}", names


def screening(
    app: Application, listed: tuple[str | None, list[ListedName]], rules: CheckRules
) -> CheckOutcome:
    """The sanctions check of the company and its legal representative against `listed`."""
    label, names = listed
    subjects = {"company": app.legal_name, "legal_representative": app.legal_representative}
    hits = screen(subjects, names, rules.sanctions_min_score) if label else []
    return sanctions_check(hits, label, rules.sanctions_min_score)


def rescreen(session: Session, rules: CheckRules, at: datetime) -> tuple[int, int]:
    """Screen again, against the newest list, every seller not offboarded and every open
    application: one read of the list, one of the subjects. Returns (screened, hits)."""
    listed = newest_list(session)
    sellers = select(Seller.application_id).where(
        col(Seller.status) != SellerStatus.offboarded.value
    )
    open_stages = [stage.value for stage in Stage if stage not in FINAL_STAGES]
    subjects = session.exec(
        select(Application).where(
            col(Application.personal_data_erased_at).is_(None),
            sa.or_(col(Application.id).in_(sellers), col(Application.stage).in_(open_stages)),
        )
    ).all()
    hits = 0
    conn = session.connection()
    for app in subjects:
        outcome = screening(app, listed, rules)
        hits += outcome.status == CheckStatus.needs_review
        record_checks(conn, app.id, [outcome], at)
    return len(subjects), hits
