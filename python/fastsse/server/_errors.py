"""Request errors and their provider-shaped bodies.

Each API answers errors in its own shape, and the official SDKs read those shapes into typed
exceptions (``openai.BadRequestError``, ``anthropic.BadRequestError``), so the server answers
in the shape of the route that was called.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson

__all__ = ["Api", "RequestError", "error_body"]

Api = Literal["openai", "anthropic"]

# Longest error message a response carries.
MAX_MESSAGE_CHARS = 512

# HTTP status -> (OpenAI error type, Anthropic error type)
_TYPES: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "invalid_request_error"),
    401: ("authentication_error", "authentication_error"),
    404: ("not_found_error", "not_found_error"),
    405: ("invalid_request_error", "invalid_request_error"),
    403: ("permission_error", "permission_error"),
    408: ("invalid_request_error", "timeout_error"),
    413: ("invalid_request_error", "request_too_large"),
    429: ("rate_limit_exceeded", "rate_limit_error"),
    500: ("server_error", "api_error"),
    502: ("server_error", "api_error"),
    503: ("server_error", "overloaded_error"),
    529: ("server_error", "overloaded_error"),
}


class RequestError(Exception):
    """A request the server refuses: HTTP ``status``, a message, and the offending parameter."""

    def __init__(
        self, message: str, *, param: str | None = None, status: int = 400, code: str | None = None
    ) -> None:
        if len(message) > MAX_MESSAGE_CHARS:  # messages quote client input: never echo it whole
            message = message[: MAX_MESSAGE_CHARS - 20] + f"... ({len(message)} characters)"
        super().__init__(message)
        self.message = message
        self.param = param
        self.status = status
        self.code = code


def error_body(
    api: Api, status: int, message: str, param: str | None = None, code: str | None = None
) -> bytes:
    unlisted = ("invalid_request_error",) * 2 if status < 500 else ("server_error", "api_error")
    openai_type, anthropic_type = _TYPES.get(status, unlisted)
    body: dict[str, Any]
    if api == "anthropic":
        body = {"type": "error", "error": {"type": anthropic_type, "message": message}}
    else:
        body = {"error": {"message": message, "type": openai_type, "param": param, "code": code}}
    return orjson.dumps(body)
