"""A small HTTP load generator: client processes with one keep-alive connection each.

Python's ``http.client`` is enough on loopback as long as the clients are separate processes
(one GIL each) and everything a request needs (bodies, signatures) is built before the clock
starts. All clients start together on a barrier; the rate is successful responses over the
time from the first start to the last finish.
"""

from __future__ import annotations

import http.client
import multiprocessing
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from whatsapp_leads.providers.meta.signature import sign
from whatsapp_leads.providers.meta.simulation import dumps, inbound

AD_ID = "120226305854810726"


def bench_payload(n: int) -> bytes:
    """The webhook body of bench user ``n``: an ad-click text message with its own wamid.

    The message id is derived from ``n`` because ``simulation.wamid()`` counts per process, and
    the client processes would otherwise send the same ids.
    """
    wa_id = f"91{n:010d}"
    return dumps(
        inbound(
            wa_id=wa_id,
            name=f"Bench {n}",
            ad_id=AD_ID,
            message_id=f"wamid.HBgM{wa_id}FQIAEhgUQkVOQ0g{n:010d}",
        )
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What one phase sends: ``requests`` in total over ``clients`` connections, within ``max_seconds``."""

    port: int
    path: str
    requests: int
    clients: int
    max_seconds: float
    secret: str | None = None  # when set: signed webhook POSTs, else GETs
    user_offset: int = 0
    # When set: requests per second over all clients, each sent on a fixed schedule (not as fast
    # as possible), and every response's latency kept: the latency at a given load.
    rate: float | None = None


@dataclass(slots=True, kw_only=True)
class Result:
    ok: int = 0
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    # ``time.perf_counter()`` when the first client started sending: CLOCK_MONOTONIC on Linux,
    # one clock for every process, so a caller can time what follows from the first request on.
    started_at: float = 0.0
    latencies: list[float] = field(default_factory=list)
    # CPU seconds the client processes spent between the barrier and their last answer: whether
    # the load generator, not the server, is what a figure measures.
    cpu_seconds: float = 0.0

    def percentile_ms(self, fraction: float) -> float | None:
        """The latency (ms) below which ``fraction`` of the answered requests came back."""
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 2)

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0


def _requests_for(plan: Plan, index: int, count: int) -> list[tuple[str, bytes | None, dict[str, str]]]:
    """Every request a client will send, ready to go: distinct users, so each webhook is new work."""
    if plan.secret is None:
        return [("GET", None, {})] * count
    first = plan.user_offset + index * count
    out: list[tuple[str, bytes | None, dict[str, str]]] = []
    for n in range(first, first + count):
        body = bench_payload(n)
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, plan.secret)}
        out.append(("POST", body, headers))
    return out


def _client(plan: Plan, index: int, count: int, barrier: Any, results: Any) -> None:
    prepared = _requests_for(plan, index, count)
    result = Result()
    conn = http.client.HTTPConnection("127.0.0.1", plan.port, timeout=30)
    barrier.wait()
    cpu_started = time.process_time()
    started = time.perf_counter()
    deadline = started + plan.max_seconds
    # Paced: this client's share of the rate, the clients offset from one another.
    interval = plan.clients / plan.rate if plan.rate else 0.0
    for n, (method, body, headers) in enumerate(prepared):
        if interval:
            due = started + (n + index / plan.clients) * interval
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        sent = time.perf_counter()
        if sent > deadline:
            break
        try:
            conn.request(method, plan.path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if interval:
                result.latencies.append(time.perf_counter() - sent)
        except (OSError, http.client.HTTPException) as exc:
            result.errors[type(exc).__name__] += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", plan.port, timeout=30)
            continue
        result.statuses[response.status] += 1
        if response.status == 200:
            result.ok += 1
        if response.will_close:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", plan.port, timeout=30)
    finished = time.perf_counter()
    cpu = time.process_time() - cpu_started
    conn.close()
    results.put(
        (
            index,
            started,
            finished,
            result.ok,
            dict(result.statuses),
            dict(result.errors),
            result.latencies,
            cpu,
        )
    )


def run(plan: Plan) -> Result:
    """Run one phase and return its combined result."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(plan.clients)
    results = ctx.Queue()
    share, extra = divmod(plan.requests, plan.clients)
    processes = [
        ctx.Process(
            target=_client, args=(plan, i, share + (1 if i < extra else 0), barrier, results), daemon=True
        )
        for i in range(plan.clients)
    ]
    for process in processes:
        process.start()
    rows = [results.get(timeout=plan.max_seconds + 120) for _ in processes]
    for process in processes:
        process.join(timeout=10)
    combined = Result()
    for _, _, _, ok, statuses, errors, latencies, cpu in rows:
        combined.cpu_seconds += cpu
        combined.ok += ok
        combined.statuses.update(statuses)
        combined.errors.update(errors)
        combined.latencies += latencies
    combined.started_at = min(r[1] for r in rows)
    combined.seconds = max(r[2] for r in rows) - combined.started_at
    return combined
