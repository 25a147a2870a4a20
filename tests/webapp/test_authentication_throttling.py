"""Token authentication (one hand-written query) and the O(1) fixed-window throttles, over real HTTP requests."""

import itertools
import random

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.annotation.factories import UserFactory
from webapp.throttling import AnonRateThrottle, UserRateThrottle

pytestmark = pytest.mark.django_db

_windows = itertools.count(random.randrange(10**6, 10**9, 1000))  # Redis outlives a test run


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_token_authenticates_the_user():
    user = UserFactory(first_name="Ada")
    response = _token_client(user).get("/api/v1/projects/")
    assert response.status_code == 200
    assert response.wsgi_request.user.pk == user.pk
    assert response.wsgi_request.user.first_name == "Ada"  # a whole user row, converted like the ORM does


@pytest.mark.parametrize("header", ["Token not-a-real-token", "Token ", "Token a b"])
def test_bad_tokens_are_401_with_a_reason(header):
    response = APIClient().get("/api/v1/projects/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_inactive_users_token_is_refused():
    user = UserFactory(is_active=False)
    response = _token_client(user).get("/api/v1/projects/")
    assert response.status_code == 401
    assert "inactive" in response.json()["detail"].lower()


@pytest.fixture
def fresh_window(monkeypatch):
    """Pin the throttles' clock inside a window no other test (or earlier run sharing Redis) has counted in."""
    start = next(_windows) * 3600.0 + 1.0
    for cls in (UserRateThrottle, AnonRateThrottle):
        monkeypatch.setattr(cls, "timer", lambda self, t=start: t)
    return start


def test_user_throttle_trips_at_the_rate_and_says_when_to_retry(monkeypatch, fresh_window):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/min", "anon": "100/min"})
    client = _token_client(UserFactory())
    assert [client.get("/api/v1/projects/").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/api/v1/projects/")
    assert refused.status_code == 429
    assert refused.json()["detail"]
    assert 0 < int(refused["Retry-After"]) <= 60
    # Another user has a counter of their own.
    assert _token_client(UserFactory()).get("/api/v1/projects/").status_code == 200


def test_user_throttle_counts_per_window(monkeypatch, fresh_window):
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "2/min", "anon": "100/min"})
    client = _token_client(UserFactory())
    assert [client.get("/api/v1/projects/").status_code for _ in range(3)] == [200, 200, 429]
    monkeypatch.setattr(UserRateThrottle, "timer", lambda self: fresh_window + 60.0)  # the next minute
    assert client.get("/api/v1/projects/").status_code == 200


def test_anonymous_throttle_counts_per_address(monkeypatch, fresh_window):
    # Every API endpoint needs a login, and DRF checks permissions before throttles: exercise the class directly.
    from django.contrib.auth.models import AnonymousUser
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"user": "100/min", "anon": "2/min"})

    def allowed(address: str) -> bool:
        request = Request(APIRequestFactory().get("/api/v1/projects/", REMOTE_ADDR=address))
        request.user = AnonymousUser()
        return AnonRateThrottle().allow_request(request, None)

    assert [allowed("203.0.113.7") for _ in range(3)] == [True, True, False]
    assert allowed("203.0.113.8")


@pytest.mark.services
def test_redis_counts_in_one_pipelined_round_trip(settings, fresh_window, monkeypatch):
    """Behind ``django.core.cache.cache`` (a proxy) the Redis backend is found, and counted on without Django's
    per-call client: the fallback (``add`` + ``incr``, a client built per call) must not run."""
    import os

    from django.core.cache import cache, caches
    from django.core.cache.backends.redis import RedisCache

    from webapp import throttling

    redis_url = os.environ["REDIS_URL"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}}
    assert isinstance(caches["default"], RedisCache)
    monkeypatch.setattr(RedisCache, "add", lambda *a, **k: pytest.fail("fallback path taken"))
    monkeypatch.setattr(RedisCache, "incr", lambda *a, **k: pytest.fail("fallback path taken"))
    key = f"plumbline-test-throttle-{fresh_window}"
    assert [throttling._count(cache, key, 61) for _ in range(3)] == [1, 2, 3]
    client = throttling._redis(caches["default"])
    assert 0 < client.ttl(caches["default"].make_and_validate_key(key)) <= 61
