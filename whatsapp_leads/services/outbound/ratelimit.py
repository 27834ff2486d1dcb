"""At most ``SEND_RATE_PER_NUMBER`` sends per second through one business number, across workers.

Meta answers 130429 once a number's throughput (80 messages a second by default) is used up, and
a bulk send from several workers would otherwise earn a storm of them. Every worker asks for a
slot before its HTTP call. The window slides (a log of the last second's grants), so no second
ever holds more than the limit, not even across a clock-second boundary.

Two backends share the algorithm:

- Redis (when the Celery broker is Redis, or ``SEND_RATE_BACKEND="redis"``): one Lua script on
  a sorted set per number, timed by Redis's own clock, atomic across every process;
- the database otherwise: a ``SendRateWindow`` row per number, locked with ``select_for_update``.
"""

from __future__ import annotations

import json
import time
import uuid
from functools import lru_cache
from typing import Any

from celery import current_app
from django.db import IntegrityError, transaction

from ...conf import app_settings
from ...models import SendRateWindow

# A little over a second: Meta counts on arrival, and requests granted a second apart can arrive
# closer together when the network delays the first more than the next.
WINDOW_SECONDS = 1.05
KEY_PREFIX = "whatsapp_leads:send_rate:"

# KEYS[1] the number's sorted set; ARGV: limit, window (s), member. Returns 0 when granted, else
# the seconds until the oldest grant leaves the window.
_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 2000))
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""


def backend() -> str:
    chosen = (app_settings.SEND_RATE_BACKEND or "").strip().lower()
    if chosen in {"redis", "database"}:
        return chosen
    url = str(current_app.conf.broker_url or "")
    return "redis" if url.startswith(("redis://", "rediss://")) else "database"


@lru_cache(maxsize=4)
def _redis(url: str) -> Any:
    import redis

    client = redis.Redis.from_url(url)
    return client, client.register_script(_LUA)


def _try_redis(number: str, *, limit: int) -> float:
    _, script = _redis(str(current_app.conf.broker_url))
    wait = script(keys=[KEY_PREFIX + number], args=[limit, WINDOW_SECONDS, uuid.uuid4().hex])
    return max(0.0, float(wait))


def _try_database(number: str, *, limit: int) -> float:
    with transaction.atomic():
        try:
            with transaction.atomic():
                SendRateWindow.objects.get_or_create(phone_number_id=number)
        except IntegrityError:  # another worker created it first
            pass
        row = SendRateWindow.objects.select_for_update().get(phone_number_id=number)
        now = time.time()
        grants = [t for t in (row.grants if isinstance(row.grants, list) else []) if t > now - WINDOW_SECONDS]
        if len(grants) < limit:
            grants.append(now)
            wait = 0.0
        else:
            wait = min(grants) + WINDOW_SECONDS - now
        row.grants = grants
        row.save(update_fields=["grants"])
        return max(0.0, wait)


def try_acquire(number: str, *, limit: int | None = None) -> float:
    """0 when a send may go now (and the slot is taken), else how long to wait before asking again."""
    limit = int(app_settings.SEND_RATE_PER_NUMBER if limit is None else limit)
    if limit <= 0:
        return 0.0
    if backend() == "redis":
        return _try_redis(number, limit=limit)
    return _try_database(number, limit=limit)


def acquire(number: str, *, max_wait: float = 5.0, sleep: Any = time.sleep) -> bool:
    """Wait (at most ``max_wait`` seconds) for a slot; False when none came, so the caller reschedules."""
    waited = 0.0
    while True:
        wait = try_acquire(number)
        if wait <= 0:
            return True
        if waited + wait > max_wait:
            return False
        sleep(wait)
        waited += wait


def describe() -> str:
    """For the bench and logs: which backend and limit are in force."""
    return json.dumps({"backend": backend(), "per_second": app_settings.SEND_RATE_PER_NUMBER})
