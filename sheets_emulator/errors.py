"""Google's error responses: `{"error": {"code", "message", "status"}}` with its wording."""

from __future__ import annotations

from typing import Any

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

DEFAULT_MESSAGES = {
    400: "Request contains an invalid argument.",
    401: "Request had invalid authentication credentials.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    409: "The operation was aborted.",
    429: (
        "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute"
        " per user' of service 'sheets.googleapis.com' for consumer 'project_number:0'."
    ),
    500: "Internal error encountered.",
    501: "Operation is not implemented, or supported, or enabled.",
    503: "The service is currently unavailable.",
    504: "The service is currently unavailable.",
}

_QUOTA_DETAILS = [
    {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "RATE_LIMIT_EXCEEDED",
        "domain": "googleapis.com",
        "metadata": {
            "quota_metric": "sheets.googleapis.com/write_requests",
            "quota_limit": "WriteRequestsPerMinutePerUser",
            "service": "sheets.googleapis.com",
            "consumer": "projects/0",
        },
    }
]


class ApiError(Exception):
    """An error the API answers with; raising it anywhere in a handler rolls the request back."""

    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = code
        self.message = message if message is not None else DEFAULT_MESSAGES.get(code, "Error")
        super().__init__(self.message)

    @property
    def status(self) -> str:
        return STATUS_NAMES.get(self.code, "UNKNOWN")

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.code == 429:
            error["details"] = _QUOTA_DETAILS
        return {"error": error}


def invalid(message: str) -> ApiError:
    return ApiError(400, message)


def not_found() -> ApiError:
    return ApiError(404)


def unparsable_range(text: str) -> ApiError:
    return invalid(f"Unable to parse range: {text}")
