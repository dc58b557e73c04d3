"""Manage staff users: `python -m sellerflow.cli.users
add|disable|enable|reset-password|set-roles|list`. Disabling, a reset password and new roles
revoke the user's tokens.

Uses DATABASE_URL.
"""

import argparse
import sys

from sqlmodel import select

from sellerflow.config import get_settings
from sellerflow.db import make_engine, session_scope
from sellerflow.models import StaffUser
from sellerflow.users import ensure_user, reset_password, set_disabled, set_roles
from sellerflow.vocabulary import Role


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sellerflow-users", description="Manage staff users")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add")
    add.add_argument("username")
    add.add_argument("--role", action="append", required=True, choices=[r.value for r in Role])
    add.add_argument("--password", required=True)
    add.add_argument("--email")
    for name in ("disable", "enable"):
        sub.add_parser(name).add_argument("username")
    reset = sub.add_parser("reset-password")
    reset.add_argument("username")
    reset.add_argument("--password", required=True)
    roles = sub.add_parser("set-roles")
    roles.add_argument("username")
    roles.add_argument("--role", action="append", required=True, choices=[r.value for r in Role])
    sub.add_parser("list")
    args = parser.parse_args(argv)
    engine = make_engine(get_settings().database_url)
    if args.command == "add":
        ensure_user(engine, args.username, args.role, args.password, args.email)
        return 0
    with session_scope(engine) as session:
        if args.command == "list":
            for user in session.exec(select(StaffUser).order_by(StaffUser.username)).all():
                state = "disabled" if user.disabled else "active"
                print(f"{user.username}\t{user.roles}\t{state}")
            return 0
        found = session.exec(select(StaffUser).where(StaffUser.username == args.username)).first()
        if found is None:
            print(f"no user {args.username}", file=sys.stderr)
            return 1
        if args.command == "reset-password":
            reset_password(found, args.password)
        elif args.command == "set-roles":
            set_roles(found, args.role)
        else:
            set_disabled(found, args.command == "disable")
        session.add(found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
