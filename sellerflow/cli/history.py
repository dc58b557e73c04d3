"""The readable history of an application in the terminal, or a workflow's history exported:

    python -m sellerflow.cli.history <application-id>            # the timeline
    python -m sellerflow.cli.history --export <workflow-id> --out FILE   # replayable history JSON

Connects with TEMPORAL_ADDRESS and DATABASE_URL.
"""

import argparse
import asyncio
import sys
import uuid
from pathlib import Path
from typing import TextIO

from sqlmodel import Session

from sellerflow.config import Settings, get_settings
from sellerflow.db import make_engine
from sellerflow.history import (
    application_workflows,
    export_history,
    fetch_histories,
    inbox_entries,
    merge,
)
from sellerflow.models import Application
from sellerflow.temporal import connect
from sellerflow.timeline import Entry


def format_entry(entry: Entry) -> str:
    actor = f" [{entry.actor}]" if entry.actor else ""
    return (
        f"{entry.at:%Y-%m-%d %H:%M:%S} {entry.kind:<12} {entry.text}{actor}  ({entry.workflow_id})"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sellerflow.cli.history", description=__doc__)
    parser.add_argument("application_id", nargs="?", help="print this application's timeline")
    parser.add_argument("--export", metavar="WORKFLOW_ID", help="write a replayable history")
    parser.add_argument("--out", type=Path, help="file for --export")
    return parser


async def main(
    argv: list[str] | None = None, settings: Settings | None = None, out: TextIO = sys.stdout
) -> int:
    """The command; returns its exit code (2: bad arguments, 1: not found)."""
    parser = _parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if bool(args.export) == bool(args.application_id) or bool(args.export) != bool(args.out):
        parser.print_usage(sys.stderr)
        return 2
    settings = settings or get_settings()
    temporal = await connect(settings)
    if args.export:
        events = await export_history(temporal, args.export, args.out)
        print(f"wrote {events} events of {args.export} to {args.out}", file=out)
        return 0
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            app = session.get(Application, uuid.UUID(args.application_id))
            if app is None:
                print(f"no application {args.application_id}", file=sys.stderr)
                return 1
            workflows = application_workflows(app)
            extra = inbox_entries(session, app)
    finally:
        engine.dispose()
    entries = merge(await fetch_histories(temporal, workflows), extra)
    print(f"application {app.id} ({app.legal_name}), stage {app.stage}", file=out)
    for entry in entries:
        print(format_entry(entry), file=out)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
