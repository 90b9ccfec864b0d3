"""Domain errors every entry point turns into a clear answer (API JSON, page message, CLI)."""
from __future__ import annotations


class OperationError(Exception):
    """An operation refused; `status` is the HTTP status, `code` a stable identifier."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code
        if status:
            self.status = status


class NotFound(OperationError):
    status = 404
    code = "not_found"


class Forbidden(OperationError):
    status = 403
    code = "forbidden"


class Conflict(OperationError):
    status = 409
    code = "invalid_state"


class Invalid(OperationError):
    status = 422
    code = "invalid_fields"


class Unavailable(OperationError):
    status = 503
    code = "unavailable"
