"""The audit log is a hash chain: edits and deletions are caught and the broken row is named."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlmodel import Session, col, select

from sellerflow import audit
from sellerflow.cli import audit as audit_cli
from sellerflow.config import PROJECT_ROOT
from sellerflow.db import session_scope
from sellerflow.models import AuditLog

AT = datetime(2026, 5, 1, 9, 30, 15, 123456, tzinfo=UTC)


def append(engine: sa.Engine, n: int, prefix: str = "row") -> None:
    for i in range(n):
        with session_scope(engine) as session:
            audit.record(
                session,
                key=f"{prefix}-{i}",
                actor="ops1",
                action="seller.warn",
                subject_type="seller",
                subject_id=f"seller-{i}",
                before="active",
                after="warned",
                reason=f"late shipment rate {i}%",
                at=AT,
            )


def ids(engine: sa.Engine) -> list[int]:
    with Session(engine) as session:
        return list(session.exec(select(col(AuditLog.id)).order_by(col(AuditLog.id))))


def check(engine: sa.Engine) -> audit.Verdict:
    with Session(engine) as session:
        return audit.verify(session)


def test_a_chain_of_rows_verifies(engine: sa.Engine) -> None:
    append(engine, 5)
    append(engine, 1, prefix="row")  # a retried activity: same key, no second row

    verdict = check(engine)

    assert verdict == audit.Verdict(ok=True, rows=5)
    with Session(engine) as session:
        rows = session.exec(select(AuditLog).order_by(col(AuditLog.id))).all()
    assert rows[0].prev_hash == audit.GENESIS_HASH
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]


def test_an_edited_reason_is_caught_and_named(engine: sa.Engine) -> None:
    append(engine, 5)
    third = ids(engine)[2]
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE audit_log SET reason = 'nothing to see' WHERE id = :id"), {"id": third}
        )

    verdict = check(engine)

    assert not verdict.ok
    assert verdict.broken_row == third
    assert "edited" in verdict.problem


def test_a_deleted_row_is_caught_at_the_next_row(engine: sa.Engine) -> None:
    append(engine, 5)
    rows = ids(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE id = :id"), {"id": rows[2]})

    verdict = check(engine)

    assert not verdict.ok
    assert verdict.broken_row == rows[3]
    assert f"row {rows[1]}" in verdict.problem


def test_deleting_the_newest_rows_is_caught_by_the_chain_head(engine: sa.Engine) -> None:
    append(engine, 3)
    rows = ids(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE id = :id"), {"id": rows[-1]})

    verdict = check(engine)

    assert not verdict.ok
    assert verdict.broken_row == rows[-1]


def test_concurrent_appends_keep_one_unforked_chain(engine: sa.Engine) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(append, engine, 10, f"writer{w}") for w in range(4)]:
            future.result()

    assert check(engine) == audit.Verdict(ok=True, rows=40)


def test_verify_command_exit_codes(
    engine: sa.Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    append(engine, 3)
    assert audit_cli.main(["verify"], database_url=database_url) == 0
    assert "OK: 3 audit rows" in capsys.readouterr().out
    second = ids(engine)[1]
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE audit_log SET actor = 'someone' WHERE id = :id"), {"id": second}
        )

    assert audit_cli.main(["verify"], database_url=database_url) == 1
    assert f"id={second}" in capsys.readouterr().out
    assert audit_cli.main([]) == 2


def test_python_dash_m_verify_uses_database_url(engine: sa.Engine, database_url: str) -> None:
    append(engine, 2)
    env = {**os.environ, "DATABASE_URL": database_url}
    run = [sys.executable, "-m", "sellerflow.cli.audit", "verify"]

    ok = subprocess.run(run, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE id = :id"), {"id": ids(engine)[0]})
    broken = subprocess.run(run, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)

    assert (ok.returncode, broken.returncode) == (0, 1), (ok.stderr, broken.stderr)
    assert "OK" in ok.stdout
    assert "BROKEN at audit row" in broken.stdout


def test_the_migration_chains_rows_written_before_it(
    engine: sa.Engine, alembic_config: Config
) -> None:
    command.downgrade(alembic_config, "0001")
    with engine.begin() as conn:
        for i in range(3):
            conn.execute(
                sa.text(
                    "INSERT INTO audit_log (idempotency_key, at, actor, action, subject_type,"
                    " subject_id, reason) VALUES (:key, :at, 'ops1', 'task.claim', 'task', 't', '')"
                ),
                {
                    "key": f"old-{i}",
                    "at": AT if engine.dialect.name != "sqlite" else AT.replace(tzinfo=None),
                },
            )
    command.upgrade(alembic_config, "head")
    append(engine, 2)

    assert check(engine) == audit.Verdict(ok=True, rows=5)
