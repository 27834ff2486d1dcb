"""Broker down, then back: the webhook still answers 200, and the sweep delivers the event later.

A small TCP proxy stands in front of the real Redis. The test process's Celery app (the one the
webhook view publishes with) goes through the proxy; the worker connects to Redis directly.
Closing the proxy is a real outage for the publisher: connections are refused, nothing is faked.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from urllib.parse import urlparse

import pytest
import redis

from tests.support.factories import AdFactory, CampaignFactory, CampaignMemberFactory
from tests.support.procs import REDIS_URL, Workers, free_port, publishing_to, wait_for
from whatsapp_leads.models import Lead, WebhookEvent
from whatsapp_leads.services.inbox import sweep
from whatsapp_leads.simulation import inbound

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

AD_ID = "120226305854810726"


class TcpProxy:
    """Forwards a local port to ``target`` while open; while closed, nothing listens on the port.

    Closing also cuts every forwarded connection, as a broker restart would.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        listener.settimeout(0.05)
        self._listener = listener
        self._stop.clear()
        self._start(self._accept_loop, listener)

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)
        self._threads.clear()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.close()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _start(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(self.target, timeout=5)
            with self._lock:
                self._sockets += [client, upstream]
            self._start(self._pump, client, upstream)
            self._start(self._pump, upstream, client)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        source.settimeout(0.05)
        while not self._stop.is_set():
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            try:
                sink.sendall(data)
            except OSError:
                break
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@pytest.fixture
def redis_proxy():
    parsed = urlparse(REDIS_URL)
    proxy = TcpProxy((parsed.hostname or "127.0.0.1", parsed.port or 6379))
    yield proxy
    proxy.close()


@pytest.fixture
def workers(request, transactional_db):
    # The worker reaches Redis directly; the test process publishes through the proxy below.
    with Workers(request=request, publish=False) as started:
        yield started


def test_webhook_during_broker_outage_answers_200_and_the_sweep_delivers_it_later(
    workers, redis_proxy, post_webhook
):
    campaign = CampaignFactory(name="Car loans")
    rep = CampaignMemberFactory(campaign=campaign).user
    AdFactory(meta_id=AD_ID, campaign=campaign)
    through_proxy = f"redis://127.0.0.1:{redis_proxy.port}{urlparse(REDIS_URL).path}"
    queue = redis.Redis.from_url(REDIS_URL)

    with publishing_to(through_proxy):
        started = time.monotonic()
        response = post_webhook(inbound(wa_id="919840000001", name="Meera", ad_id=AD_ID))
        answered_in = time.monotonic() - started

        assert response.status_code == 200
        assert answered_in < 10, f"the view spent {answered_in:.1f}s trying to publish"
        event = WebhookEvent.objects.get()
        assert event.status == WebhookEvent.Status.PENDING
        assert queue.llen("celery") == 0, "nothing may reach Redis while the broker is unreachable"

        workers.start(concurrency=1)
        redis_proxy.open()
        assert sweep(older_than_seconds=0).total == 1

        wait_for(
            lambda: WebhookEvent.objects.filter(pk=event.pk, status=WebhookEvent.Status.PROCESSED).exists(),
            timeout=30,
            what="the swept event to be processed by the worker",
        )
    queue.close()
    event.refresh_from_db()
    assert event.queued_at is not None
    lead = Lead.objects.get()
    assert (lead.wa_id, lead.campaign, lead.owner) == ("919840000001", campaign, rep)
