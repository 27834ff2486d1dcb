"""The one edge to the broker: ``publish(task_name, ...)`` with one failure policy.

Publishing can fail (broker down, network blip). Whatever is being published is already a
committed row (an inbox event, a pending download, an ad to look up), so a failure is logged and
reported as ``False``, never raised: the caller's row stays as it is and a periodic job finds it.
Tasks are named, not imported, so services never import ``tasks`` and this module imports nothing
of ours but settings.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import current_app
from kombu.exceptions import ChannelError

from .conf import app_settings

logger = logging.getLogger(__name__)

PROCESS_EVENT = "whatsapp_leads.process_webhook_event"
DOWNLOAD_MEDIA = "whatsapp_leads.download_message_media"
LOOKUP_AD = "whatsapp_leads.lookup_ad"
SEND_MESSAGE = "whatsapp_leads.send_message"
SYNC_TEMPLATES = "whatsapp_leads.sync_templates"
MARK_READ = "whatsapp_leads.mark_read"
# ad loop
SEND_CONVERSION = "whatsapp_leads.send_conversion"


def publish(
    task_name: str,
    *args: Any,
    countdown: float | None = None,
    what: str = "",
    kwargs: dict[str, Any] | None = None,
) -> bool:
    """Send ``task_name(*args)`` to the broker; True when it took the message.

    A short retry (``PUBLISH_MAX_RETRIES``, under half a second) rides out a blip without
    holding a webhook answer for long; anything longer is the periodic jobs' to recover.
    ``what`` names the work for the log ("the lookup of ad 123"), for operators reading it.
    """
    retries = app_settings.PUBLISH_MAX_RETRIES
    try:
        current_app.send_task(
            task_name,
            args=args,
            kwargs=kwargs,
            countdown=countdown,
            queue=app_settings.TASK_QUEUE,
            retry=retries > 0,
            retry_policy={
                "max_retries": retries,
                "interval_start": 0,
                "interval_step": 0.2,
                "interval_max": 0.5,
            },
        )
    except Exception:  # broker errors come in many types (kombu, redis, OSError); all mean "later"
        logger.warning(
            "could not queue %s; it will be recovered later", what or f"{task_name}{args!r}", exc_info=True
        )
        return False
    return True


# The last wake this process sent: (the connection pool it went through, monotonic time it was started).
_last_wake: tuple[Any, float] | None = None


def wake_covered() -> bool:
    """Whether a wake this process sent moments ago (``WAKE_INTERVAL_SECONDS``) covers a new event.

    A woken worker drains the inbox and scans once more ``WAKE_INTERVAL_SECONDS`` after it took
    the wake, so every row committed before then is found. A wake only counts through the
    connection pool it went out on: a new pool (a reconfigured broker) must be woken again.
    """
    window = app_settings.WAKE_INTERVAL_SECONDS
    last = _last_wake
    if not window or last is None:
        return False
    return last[0] is current_app.pool and time.monotonic() - last[1] < window


def wake(task_name: str, *args: Any, what: str = "") -> bool:
    """``publish`` that records the time it *started* (a worker cannot take the wake before that).

    The task gets ``linger=True``: the webhooks this process stores in the next
    ``WAKE_INTERVAL_SECONDS`` publish nothing, so the worker must look once more that long after
    it took the wake. Other publishes (the sweep, re-processing) name every event and need no look.
    """
    global _last_wake
    started = time.monotonic()
    if not publish(task_name, *args, what=what, kwargs={"linger": True}):
        return False
    _last_wake = (current_app.pool, started)
    return True


def waiting_in_queue() -> int | None:
    """Messages waiting in the task queue, or None when the broker cannot say (or is down).

    Lets the sweep tell "still queued behind a backlog" from "lost with the broker": an event is
    only queued again once nothing is waiting.
    """
    name = app_settings.TASK_QUEUE or current_app.conf.task_default_queue
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=2)
            try:
                declared = conn.default_channel.queue_declare(queue=name, passive=True)
            except ChannelError:  # no such queue (Redis drops an empty list): nothing waits
                return 0
            return int(declared.message_count)
    except Exception:  # a transport without counts, a broker that is down
        logger.debug("could not count the messages waiting in %s", name, exc_info=True)
        return None
