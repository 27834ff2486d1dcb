"""Pointing the test process's Celery publisher at a broker, and reading what it published."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import kombu.pools

from bharatcrm.celery import app


def point_celery_at(url: str) -> None:
    """Make the test process's Celery app publish to ``url`` from now on.

    Celery caches its connection and producer pools, and kombu keeps global pools keyed by
    connection; changing ``broker_url`` alone would keep publishing to the old broker, and
    ``force_close_all()`` alone leaves a closed pool cached. So reset kombu's pools (its public
    API) and drop Celery's two cached references, as Celery itself does after a fork.
    """
    kombu.pools.reset()
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


def drain_memory_queue(queue: str | None = None) -> list[tuple[str, tuple]]:
    """Take every task message waiting on the in-memory broker: (task name, positional args)."""
    taken = []
    with app.connection_for_read() as conn:
        channel = conn.default_channel
        name = queue or app.conf.task_default_queue
        while (message := channel.basic_get(name, no_ack=True)) is not None:
            args, _kwargs, _embed = message.decode()
            taken.append((message.headers["task"], tuple(args)))
    return taken


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def broker_down() -> Iterator[None]:
    """Every publish is refused, as in a Redis outage; the previous broker is restored after."""
    previous = app.conf.broker_url
    point_celery_at(f"redis://127.0.0.1:{closed_port()}/0")
    try:
        yield
    finally:
        point_celery_at(previous)
