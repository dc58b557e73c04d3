"""Policy versions: the built-in files seeded, drafts proposed, approved by a second person.

Until a rollout puts another version in force, the active version is the policy the deployment
runs with (`SELLERFLOW_POLICY`); from the first rollout's switch on, the database decides
(`sellerflow.services.policy_rollouts`).
"""

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from sellerflow.db import insert_once, table_of
from sellerflow.errors import Conflict, Forbidden, InvalidRequest, NotFound
from sellerflow.models import Application, PolicyRollout, PolicyVersion, Seller, utcnow
from sellerflow.policy.model import FILES, Policy, load_policy
from sellerflow.policy.versions import FieldChange, Problem, diff, rule_problems
from sellerflow.vocabulary import FINAL_STAGES, PolicyStatus, RolloutState, SellerStatus

BUILT_IN = "built-in"
# `Session.info` key: the configured version the built-in versions were last seeded for.
_SEEDED = "sellerflow.policy_versions_seeded"
VERSION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
VERSIONS: sa.Table = table_of(PolicyVersion)
APPS = table_of(Application).c
ROLLOUTS = table_of(PolicyRollout).c
_POLICIES: dict[str, Policy] = {}
SELLERS = table_of(Seller).c


class InvalidPolicy(InvalidRequest):
    """Proposed rules that make no policy: `fields` names each invalid field's path."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} invalid field(s) in the rules")
        self.fields = [{"path": p.path, "msg": p.msg} for p in problems]


@dataclass(frozen=True)
class Running:
    """How many running workflows use a version: onboardings in flight and seller workflows."""

    onboarding: int = 0
    sellers: int = 0

    @property
    def total(self) -> int:
        return self.onboarding + self.sellers


@cache
def _built_in_files() -> dict[str, Policy]:
    """The policy files shipped with the code, read once per process."""
    return {p.version: p for p in (load_policy(f.stem) for f in sorted(FILES.glob("*.yaml")))}


def _rolled_out(conn: sa.Connection) -> bool:
    """Whether a rollout has put a version in force: then the configured file no longer does."""
    switched = sa.select(ROLLOUTS.version).where(ROLLOUTS.state != RolloutState.scheduled.value)
    return conn.execute(switched.limit(1)).first() is not None


def _seeded(
    conn: sa.Connection, built_in: dict[str, Policy], configured: Policy, rolled_out: bool
) -> bool:
    """Whether every built-in version is stored and (before any rollout) the configured one
    alone is active."""
    if rolled_out:
        known = conn.execute(sa.select(VERSIONS.c.version).where(VERSIONS.c.version.in_(built_in)))
        return built_in.keys() <= set(known.scalars())
    stored = conn.execute(
        sa.select(VERSIONS.c.version, VERSIONS.c.status).where(
            VERSIONS.c.version.in_(built_in) | (VERSIONS.c.status == PolicyStatus.active.value)
        )
    ).all()
    active = {version for version, status in stored if status == PolicyStatus.active.value}
    return built_in.keys() <= {version for version, _ in stored} and active == {configured.version}


def seed_built_in(session: Session, configured: Policy) -> None:
    """Store the built-in files (and the configured policy) as versions, once; until a rollout
    has switched to another version, the configured one is the active version and any other
    one active before it is retired. Read once per session (a request): a second call in the
    same session does nothing."""
    if session.info.get(_SEEDED) == configured.version:
        return
    conn = session.connection()
    built_in = {**_built_in_files(), configured.version: configured}
    rolled_out = _rolled_out(conn)
    if _seeded(conn, built_in, configured, rolled_out):
        session.info[_SEEDED] = configured.version
        return
    now = utcnow()
    for version, policy in built_in.items():
        in_force = version == configured.version and not rolled_out
        status = PolicyStatus.active if in_force else PolicyStatus.draft
        row = {
            "version": version,
            "status": status.value,
            "rules": policy.model_dump(mode="json"),
            "proposed_by": BUILT_IN,
            "approved_by": BUILT_IN,
            "approved_at": now,
            "effective_at": now if status == PolicyStatus.active else None,
            "created_at": now,
        }
        insert_once(conn, VERSIONS, "version", row)
    if rolled_out:
        session.commit()
        session.info[_SEEDED] = configured.version
        return
    active = VERSIONS.c.status == PolicyStatus.active.value
    conn.execute(
        sa.update(VERSIONS)
        .where(active, VERSIONS.c.version != configured.version)
        .values(status=PolicyStatus.retired.value)
    )
    conn.execute(
        sa.update(VERSIONS)
        .where(VERSIONS.c.version == configured.version, ~active)
        .values(status=PolicyStatus.active.value, effective_at=now)
    )
    session.commit()
    session.info[_SEEDED] = configured.version


def running_workflows(session: Session) -> dict[str, Running]:
    """Per version: applications in flight and sellers not offboarded (a seller's workflow
    runs under the version its application was started with until a rollout switches it)."""
    conn = session.connection()
    in_flight = conn.execute(
        sa.select(APPS.policy_version, sa.func.count())
        .where(APPS.stage.not_in([s.value for s in FINAL_STAGES]))
        .group_by(APPS.policy_version)
    )
    onboarding: dict[str, int] = {row[0]: row[1] for row in in_flight}
    # A seller runs under its application's version until a rollout switches it.
    runs_under = sa.func.coalesce(SELLERS.policy_version, APPS.policy_version)
    monitored = conn.execute(
        sa.select(runs_under, sa.func.count())
        .select_from(
            sa.join(table_of(Seller), table_of(Application), SELLERS.application_id == APPS.id)
        )
        .where(SELLERS.status != SellerStatus.offboarded.value)
        .group_by(runs_under)
    )
    sellers: dict[str, int] = {row[0]: row[1] for row in monitored}
    return {
        v: Running(onboarding.get(v, 0), sellers.get(v, 0)) for v in onboarding.keys() | sellers
    }


def list_versions(
    session: Session, configured: Policy, *, limit: int, offset: int
) -> tuple[list[PolicyVersion], int]:
    """Every version, newest first."""
    seed_built_in(session, configured)
    total = session.exec(select(sa.func.count()).select_from(PolicyVersion)).one()
    rows = session.exec(
        select(PolicyVersion)
        .order_by(col(PolicyVersion.created_at).desc(), col(PolicyVersion.version))
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total


def get_version(session: Session, configured: Policy, version: str) -> PolicyVersion:
    seed_built_in(session, configured)
    row = session.get(PolicyVersion, version) if VERSION_NAME.match(version) else None
    if row is None:
        raise NotFound(f"no policy version {version!r}")
    return row


def active_version(session: Session, configured: Policy) -> PolicyVersion:
    seed_built_in(session, configured)
    row = session.exec(
        select(PolicyVersion).where(PolicyVersion.status == PolicyStatus.active)
    ).first()
    if row is None:  # seeding leaves exactly one active version
        raise NotFound("no active policy version")
    return row


def policy_in_force(session: Session, configured: Policy) -> Policy:
    """The rules of the active version: what new applications and evaluations start with."""
    return policy_of(session, configured, active_version(session, configured).version)


def policy_of(session: Session, configured: Policy, version: str) -> Policy:
    """A stored version's rules; they never change, so they are validated once per process."""
    if version == configured.version:
        return configured
    if version not in _POLICIES:
        _POLICIES[version] = Policy.model_validate(get_version(session, configured, version).rules)
    return _POLICIES[version]


def propose(session: Session, configured: Policy, rules: Any, proposer: str) -> PolicyVersion:
    """Store valid rules as a draft; 422 naming each invalid field, 409 for a known version."""
    seed_built_in(session, configured)
    problems = rule_problems(rules)
    if problems:
        raise InvalidPolicy(problems)
    version = str(rules["version"])
    if not VERSION_NAME.match(version):
        raise InvalidPolicy(
            [Problem("version", "letters, digits, '.', '_' and '-', at most 64 characters")]
        )
    policy = Policy.model_validate(rules)
    row = PolicyVersion(
        version=version,
        status=PolicyStatus.draft,
        rules=policy.model_dump(mode="json"),
        proposed_by=proposer,
    )
    if not insert_once(session.connection(), VERSIONS, "version", row.model_dump()):
        raise Conflict(f"policy version {version!r} exists; name the new rules another version")
    session.commit()
    return get_version(session, configured, version)


def approve(session: Session, configured: Policy, version: str, approver: str) -> PolicyVersion:
    """The second person's approval of a draft: never its proposer's."""
    row = get_version(session, configured, version)
    if row.status != PolicyStatus.draft:
        raise Conflict(f"policy version {version!r} is {row.status.value}, not a draft")
    if row.approved_by is not None:
        raise Conflict(f"policy version {version!r} was approved by {row.approved_by}")
    if row.proposed_by == approver:
        raise Forbidden("a policy version is approved by someone other than its proposer")
    # Guarded: of two approvals at once, one wins.
    done = session.connection().execute(
        sa.update(VERSIONS)
        .where(VERSIONS.c.version == version, VERSIONS.c.approved_by.is_(None))
        .values(approved_by=approver, approved_at=utcnow())
    )
    if done.rowcount != 1:
        raise Conflict(f"policy version {version!r} was approved meanwhile")
    session.commit()
    session.refresh(row)
    return row


def version_diff(session: Session, configured: Policy, old: str, new: str) -> list[FieldChange]:
    return diff(
        get_version(session, configured, old).rules, get_version(session, configured, new).rules
    )
