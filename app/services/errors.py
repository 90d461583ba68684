"""Errors that services raise; the web and API layers turn them into pages and JSON."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Msg:
    """A message id (English, translated at render time) and its parameters."""

    msgid: str
    params: dict[str, object] = field(default_factory=dict)


class ServiceError(Exception):
    status_code = 400


class NotFound(ServiceError):
    status_code = 404


class ValidationFailed(ServiceError):
    status_code = 422

    def __init__(self, errors: dict[str, Msg]) -> None:
        super().__init__(", ".join(f"{k}: {v.msgid}" for k, v in errors.items()))
        self.errors = errors


class Conflict(ServiceError):
    """The record changed since the caller read it (stale version) or is still linked."""

    status_code = 409

    def __init__(self, message: Msg, current: dict | None = None) -> None:
        super().__init__(message.msgid)
        self.message = message
        self.current = current
