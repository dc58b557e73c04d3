"""Input and results of the policy rollout workflow and its activities."""

from datetime import datetime

from sellerflow.payloads import Payload
from sellerflow.policy.model import Policy


class RolloutProgress(Payload):
    """How far the switch got: carried across continue-as-new."""

    policy: Policy
    notified: int = 0
    # The last seller (in id order) whose workflow was signalled; "" before the first.
    after_seller_id: str = ""
    switched: int = 0


class RolloutInput(Payload):
    version: str
    effective_at: datetime
    progress: RolloutProgress | None = None


class RolloutResult(Payload):
    version: str
    sellers_notified: int
    sellers_switched: int


class AnnounceRolloutInput(Payload):
    version: str


class ActivateVersionInput(Payload):
    version: str
    at: datetime


class EvaluationScheduleInput(Payload):
    policy: Policy


class SellersToSwitchInput(Payload):
    version: str
    after_seller_id: str
    limit: int


class SellersToSwitch(Payload):
    seller_ids: list[str]


class RolloutProgressInput(Payload):
    version: str
    after_seller_id: str
    switched: int


class FinishRolloutInput(Payload):
    version: str
    switched: int
    at: datetime
