"""Business rules as pure functions of state, event and `now`; figures come from the policy file."""


class Refused(Exception):
    """A request the current state does not allow; `code` names the reason for clients."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
