"""How long an application that ended without a seller keeps its personal data and files."""

from datetime import datetime

from sellerflow.policy.model import Policy, add_duration
from sellerflow.vocabulary import Stage

# The ends of an application that opened no seller account: nothing of it is needed any more
# but the fact that it happened (the audit log).
ERASABLE_STAGES = frozenset({Stage.rejected, Stage.withdrawn, Stage.expired})


def erasure_cutoff(policy: Policy, now: datetime) -> datetime:
    """Applications that entered an erasable stage before this time are erased at `now`."""
    return now - (add_duration(now, policy.retention.closed_applications) - now)


def is_erasable(policy: Policy, stage: Stage, ended_at: datetime, now: datetime) -> bool:
    return stage in ERASABLE_STAGES and ended_at < erasure_cutoff(policy, now)
