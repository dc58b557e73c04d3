"""`python -m sellerflow.cli.audit verify`: walks the audit log's hash chain (`sellerflow.audit`).

Uses DATABASE_URL.
"""

import sys

from sqlmodel import Session

from sellerflow.audit import verify
from sellerflow.config import get_settings
from sellerflow.db import make_engine


def main(argv: list[str] | None = None, database_url: str | None = None) -> int:
    """The command: exit 0 when the chain holds, 1 at the first break, 2 on bad arguments."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["verify"]:
        print("usage: python -m sellerflow.cli.audit verify", file=sys.stderr)
        return 2
    engine = make_engine(database_url or get_settings().database_url)
    try:
        with Session(engine) as session:
            verdict = verify(session)
    finally:
        engine.dispose()
    if verdict.ok:
        print(f"OK: {verdict.rows} audit rows, chain intact")
        return 0
    print(f"BROKEN at audit row id={verdict.broken_row}: {verdict.problem}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
