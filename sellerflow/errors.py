"""Domain errors carry their HTTP status; one API handler renders them as {error, detail}."""


class DomainError(Exception):
    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def name(self) -> str:
        return type(self).__name__


class NotFound(DomainError):
    status_code = 404


class Unauthorized(DomainError):
    status_code = 401


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409


class Gone(DomainError):
    """Was valid once and never will be again (a used or replaced one-time link)."""

    status_code = 410


class InvalidRequest(DomainError):
    status_code = 422


class ChecksNotOverridden(InvalidRequest):
    """Approving the review over automated checks' findings without `check_overridden`."""


class MissingRequirements(InvalidRequest):
    def __init__(self, codes: list[str]) -> None:
        super().__init__("requirements not satisfied: " + ", ".join(codes))
        self.codes = codes


class TooManyAttempts(DomainError):
    """Refused until `retry_after` seconds have passed (the answer's Retry-After header)."""

    status_code = 429

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ServiceUnavailable(DomainError):
    status_code = 503
