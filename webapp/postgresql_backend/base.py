"""Django's PostgreSQL backend, with the per-request connection health check skipped right after a good request.

With ``CONN_HEALTH_CHECKS`` Django runs ``SELECT 1`` at the first database use of every request on a persistent
connection, so that a connection the server dropped while it sat idle (a restart, an idle timeout, a failover) is
replaced instead of failing the request. Under load the same connection has just finished a request without an
error a few milliseconds earlier, and the check is a round trip per request for nothing: two of the ~17 round
trips of an annotator's judgment (bench/annotation_load.py).

Here the check is skipped when the connection's last request ended without a database error less than
``DATABASE_HEALTH_CHECK_GRACE`` seconds ago (settings; 0 restores Django's check on every request). A connection
that breaks inside that window fails one request, as it would without health checks, and is closed at the end of
that request (Django closes connections that saw errors and no longer answer), so the next request reconnects.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    _healthy_at: float | None = None

    def connect(self) -> None:
        self._healthy_at = None
        super().connect()

    def close_if_unusable_or_obsolete(self) -> None:
        # Called at the start and at the end of each request. ``health_check_done`` is True only if the connection
        # was used (checked, or newly opened) since the last call: at the end of a request that used it.
        used_cleanly = self.connection is not None and self.health_check_done and not self.errors_occurred
        errors = self.errors_occurred
        super().close_if_unusable_or_obsolete()
        if errors:
            # Django has just checked it (and kept it): still, the next request checks it again, and this call's
            # "checked" must not pass for a clean use at the next one.
            self._healthy_at = None
            self.health_check_done = False
        elif used_cleanly and self.connection is not None:
            self._healthy_at = time.monotonic()

    def close_if_health_check_failed(self) -> None:
        grace = getattr(settings, "DATABASE_HEALTH_CHECK_GRACE", 0.0)
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and self._healthy_at is not None
            and time.monotonic() - self._healthy_at < grace
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
