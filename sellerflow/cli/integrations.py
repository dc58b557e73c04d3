"""Manage the integration accounts that post order events: `python -m sellerflow.cli.integrations
create|revoke|list`. `create NAME` prints the account's API key once (only its SHA-256 is
stored); `revoke NAME` refuses the key from the next request on.

Uses DATABASE_URL.
"""

import argparse
import re
import sys

from sellerflow.config import get_settings
from sellerflow.db import make_engine, session_scope
from sellerflow.errors import DomainError
from sellerflow.services.integrations import create_key, list_keys, revoke_key

NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def account_name(value: str) -> str:
    if not NAME.match(value):
        raise argparse.ArgumentTypeError("1-64 of a-z 0-9 _ . -, starting with a letter or digit")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sellerflow-integrations", description="Manage integration API keys"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("create", "revoke"):
        sub.add_parser(name).add_argument("name", type=account_name)
    sub.add_parser("list")
    args = parser.parse_args(argv)
    engine = make_engine(get_settings().database_url)
    with session_scope(engine) as session:
        try:
            if args.command == "create":
                key = create_key(session, args.name)
                print(key)
                print(
                    "the key is shown only now: store it in the integration's secrets",
                    file=sys.stderr,
                )
            elif args.command == "revoke":
                revoke_key(session, args.name)
            else:
                for row in list_keys(session):
                    state = "revoked" if row.revoked_at else "active"
                    print(f"{row.name}\t{state}\t{row.created_at.isoformat()}")
        except DomainError as err:
            print(str(err), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
