"""`python -m sellerflow.cli.retention [--dry-run]`: erase the personal data and files of the
rejected, withdrawn and expired applications older than the policy's retention period
(`sellerflow.services.retention`) and remove the stray uploads, as the daily Schedule does
(`workflows.retention`); `--dry-run` lists them and changes nothing.

Uses DATABASE_URL, the S3 settings and SELLERFLOW_POLICY.
"""

import argparse
import sys
from datetime import UTC, datetime

from sqlmodel import Session

from sellerflow.config import Settings, get_settings
from sellerflow.db import make_engine
from sellerflow.policy.model import load_policy
from sellerflow.services.retention import Erasable, due_for_erasure, erase, stray_pages
from sellerflow.storage import ObjectStore


def describe(item: Erasable) -> list[str]:
    lines = [
        f"application {item.application_id} ({item.why}): "
        f"{len(item.documents)} documents, {len(item.signatures)} signatures, "
        f"{item.messages} messages; contact name and e-mail, signers, file names"
    ]
    lines += [f"  document {document}" for document in item.documents]
    lines += [f"  signature {signature}" for signature in item.signatures]
    return lines


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sellerflow.cli.retention")
    parser.add_argument("--dry-run", action="store_true", help="list, change nothing")
    args = parser.parse_args(argv)
    settings = settings or get_settings()
    policy = load_policy(settings.sellerflow_policy)
    now = datetime.now(UTC)
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            due = due_for_erasure(session, policy, now)
            period = policy.retention.closed_applications
            print(
                f"{len(due)} applications ended more than {period} ago, or of departed sellers "
                f"whose erasure was asked (policy {policy.version})"
            )
            store = None if args.dry_run else ObjectStore(settings)
            for item in due:
                print("\n".join(describe(item)))
                if store is not None:
                    deleted = erase(session, store, item, now)
                    print(f"  erased ({deleted} objects deleted)")
            strays = []
            for page in stray_pages(session, store or ObjectStore(settings)):
                strays += page
                if store is not None:
                    store.delete_many(page)
            print(f"{len(strays)} stray uploads (sent after their file was checked)")
            print("\n".join(f"  {key}" for key in strays))
    finally:
        engine.dispose()
    if args.dry_run:
        print("dry run: nothing was changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
