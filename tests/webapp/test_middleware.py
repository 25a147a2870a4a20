"""webapp.middleware: message storage built on first use; pages that use messages still get them."""

import pytest
from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.functional import empty

from webapp.middleware import LazyMessageMiddleware

pytestmark = pytest.mark.django_db


def _request():
    from django.contrib.sessions.backends.db import SessionStore

    request = RequestFactory().get("/")
    request.session = SessionStore()
    return request


def test_a_request_that_never_touches_messages_builds_no_storage():
    request = _request()
    middleware = LazyMessageMiddleware(lambda r: HttpResponse("ok"))
    response = middleware(request)
    assert request._messages._wrapped is empty
    assert "messages" not in response.cookies


def test_messages_added_in_a_view_are_stored_and_shown_on_the_next_request():
    def add(request):
        messages.success(request, "Snapshot frozen.")
        assert isinstance(request._messages, FallbackStorage)  # the lazy object passes for the real storage
        return HttpResponse("ok")

    first = _request()
    response = LazyMessageMiddleware(add)(first)
    assert "messages" in response.cookies  # the cookie storage kept it for the next page

    second = _request()
    second.COOKIES["messages"] = response.cookies["messages"].value
    shown = []
    LazyMessageMiddleware(lambda r: shown.extend(str(m) for m in messages.get_messages(r)) or HttpResponse())(second)
    assert shown == ["Snapshot frozen."]
