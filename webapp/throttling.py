"""DRF's rate throttles, counted in O(1) per request.

DRF's ``SimpleRateThrottle`` keeps, per user, the list of every request time within the window, and reads, pickles
and writes that whole list on every request (at the default 6,000/min a busy annotator's list holds hundreds of
floats). These throttles keep one counter per user and fixed window instead: one ``INCR`` (Redis: a pipelined
``SET NX EX`` + ``INCR``, one round trip). Same settings (``DEFAULT_THROTTLE_RATES``), same 429 answers with
``Retry-After``; a fixed window may let up to twice the rate through across a window boundary, which is what a
guard against runaway scripts needs.
"""

import threading

from django.core.cache.backends.redis import RedisCache
from django.utils.connection import ConnectionProxy
from rest_framework import throttling

_redis_clients: dict[int, object] = {}
_lock = threading.Lock()


def _redis(cache: RedisCache):
    # Django's RedisCache builds a new client object (≈170 response callbacks) per call; one per process suffices
    # (it shares the cache's connection pool and is thread-safe).
    client = _redis_clients.get(id(cache))
    if client is None:
        with _lock:
            client = _redis_clients.setdefault(id(cache), cache._cache.get_client(write=True))
    return client


def _resolve(cache):
    """DRF's throttles hold ``django.core.cache.cache``, a proxy: the backend behind it (this thread's instance)."""
    if isinstance(cache, ConnectionProxy):
        return cache._connections[cache._alias]
    return cache


def _count(cache, key: str, ttl: int) -> int:
    """Add one hit to the window's counter; the new count."""
    cache = _resolve(cache)
    if isinstance(cache, RedisCache):
        full_key = cache.make_and_validate_key(key)
        pipe = _redis(cache).pipeline(transaction=False)
        pipe.set(full_key, 0, ex=ttl, nx=True)
        pipe.incr(full_key)
        return int(pipe.execute()[1])
    cache.add(key, 0, ttl)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, ttl)
        return 1


class FixedWindowMixin:
    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self._window_end = (window + 1) * self.duration
        self._now = now
        count = _count(self.cache, f"{self.key}:{window}", int(self.duration) + 1)
        return count <= self.num_requests

    def wait(self) -> float:
        return max(0.0, self._window_end - self._now)


class UserRateThrottle(FixedWindowMixin, throttling.UserRateThrottle):
    pass


class AnonRateThrottle(FixedWindowMixin, throttling.AnonRateThrottle):
    pass
