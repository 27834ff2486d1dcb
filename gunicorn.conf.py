"""gunicorn's settings for this project, read from the working directory (``gunicorn bharatcrm.wsgi``).

Only what the command line cannot say: each worker, once it has imported Django and the app,
moves every object it holds into the collector's permanent generation (``gc.freeze()``). Those
tens of thousands of long-lived objects (modules, URL patterns, model metadata) would otherwise
be walked by every full collection, a pause of milliseconds in the middle of some request: part
of the webhook's p99. Frozen, a collection only walks what requests allocate.

It then logs ``Worker ready``: gunicorn's own "Booting worker" comes before the worker has
imported anything, and the port is the master's, open the whole time, so neither says that a
request would be answered now (``scripts.processes.gunicorn_server`` waits for this line).
"""

from __future__ import annotations

import gc
from typing import Any


def post_worker_init(worker: Any) -> None:
    """After the worker loaded the application, before it serves its first request."""
    gc.collect()
    gc.freeze()
    worker.log.info("Worker ready (pid: %s)", worker.pid)
