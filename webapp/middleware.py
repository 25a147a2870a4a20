"""JSON instead of HTML error pages under /api/, so scripts never parse an HTML 400/404/500; messages on demand."""

import logging

from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.functional import SimpleLazyObject, empty

logger = logging.getLogger(__name__)


class JsonErrorsForApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
            and not getattr(response, "streaming", False)
        ):
            code = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
            body = {"detail": response.reason_phrase, "code": code.get(response.status_code, "error")}
            data = getattr(response, "data", None)  # a DRF response rendered as HTML (browsable API): keep its error
            if isinstance(data, dict) and isinstance(data.get("detail"), str):
                body = data
            json_response = JsonResponse(body, status=response.status_code)
            for header in ("WWW-Authenticate", "Allow", "Retry-After"):
                if header in response:
                    json_response[header] = response[header]
            return json_response
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith("/api/"):
            return None
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse({"detail": "Request body is too large.", "code": "too_large"}, status=413)
        logger.exception("Unhandled error on %s", request.path)
        return JsonResponse({"detail": "Internal error; it has been logged.", "code": "server_error"}, status=500)


class LazyMessageMiddleware(MessageMiddleware):
    """Django's ``MessageMiddleware``, with the request's message storage built on first use.

    The stock middleware builds a cookie storage and a session storage for every request; the API's requests (every
    annotator click) never show a message. Pages that add or show messages get the same storage as before, and the
    response is only updated when the storage was used.
    """

    def process_request(self, request: HttpRequest) -> None:
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response
        return super().process_response(request, response)
