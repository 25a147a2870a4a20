"""One error shape for the whole API: ``{"detail": str, "code": str, ...}`` with a 4xx status, never a 500.

Field-level validation errors also carry ``errors`` (DRF's field → messages mapping); import errors carry ``line``.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ApiError(exceptions.APIException):
    """A domain error with a stable code, raised by services and turned into a 4xx by the handler."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, detail: str, *, code: str | None = None, status_code: int | None = None, **extra: Any):
        super().__init__(detail=detail, code=code or self.default_code)
        if status_code is not None:
            self.status_code = status_code
        self.extra = extra


class Conflict(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class Forbidden(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_code = "forbidden"


class NotFound(ApiError):
    status_code = status.HTTP_404_NOT_FOUND
    default_code = "not_found"


def _first_message(data: Any) -> str:
    if isinstance(data, dict):
        for key, value in data.items():
            msg = _first_message(value)
            return msg if key == "non_field_errors" else f"{key}: {msg}"
        return "Invalid input."
    if isinstance(data, list) and data:
        return _first_message(data[0])
    return str(data)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RecursionError):
        # json.loads gives up on deeply nested input with RecursionError, which DRF's parser does not catch.
        exc = exceptions.ParseError("JSON parse error - nested too deeply.")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body: dict[str, Any] = {"detail": _first_message(exc.detail), "code": "invalid", "errors": exc.detail}
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        body = {"detail": str(detail), "code": codes if isinstance(codes, str) else "error"}
    body.update(getattr(exc, "extra", {}))
    response.data = body
    return response
