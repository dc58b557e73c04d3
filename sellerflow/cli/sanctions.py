"""`python -m sellerflow.cli.sanctions load FILE`: load a sanctions list file in the EU
consolidated list's XML format (`xmlFullSanctionsList_1_1`; the made-up
`sellerflow/data/eu-sanctions-fixture.xml` for dev), then screen every seller not offboarded and
every open application against it (`sellerflow.services.sanctions`). The newest load is the
one verification screens against.

Uses DATABASE_URL and SELLERFLOW_POLICY (the thresholds, `checks.sanctions_min_score`).
"""

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session

from sellerflow.config import Settings, get_settings
from sellerflow.db import make_engine
from sellerflow.policy.model import load_policy
from sellerflow.sanctions_list import NotASanctionsList
from sellerflow.services.sanctions import load_list, rescreen


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sellerflow.cli.sanctions")
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser("load", help="load a list file and screen everyone again")
    load.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    settings = settings or get_settings()
    policy = load_policy(settings.sellerflow_policy)
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            try:
                loaded = load_list(session, args.file.read_bytes(), args.file.name)
            except (NotASanctionsList, SyntaxError) as err:  # ET.ParseError is a SyntaxError
                print(f"{args.file}: not a sanctions list file: {err}", file=sys.stderr)
                return 2
            session.commit()
            print(f"loaded {loaded.entries} entries from {args.file} ({loaded.generated})")
            screened, hits = rescreen(session, policy.checks, datetime.now(UTC))
            session.commit()
            print(f"screened {screened} sellers and open applications again: {hits} hits")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
