"""gunicorn's settings for this project, read from the working directory (``gunicorn bharatcrm.wsgi``).

Only what the command line cannot say: each worker, once it has imported Django and the app,
moves every object it holds into the collector's permanent generation (``gc.freeze()``). Those
tens of thousands of long-lived objects (modules, URL patterns, model metadata) would otherwise
be walked by every full collection, a pause of milliseconds in the middle of some request: part
of the webhook's p99. Frozen, a collection only walks what requests allocate.
"""

from __future__ import annotations

import gc
from typing import Any


def post_worker_init(worker: Any) -> None:
    """After the worker loaded the application, before it serves its first request."""
    gc.collect()
    gc.freeze()
