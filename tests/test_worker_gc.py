"""The host's pool processes freeze what they hold at start (``bharatcrm.celery``), so the GC stops walking it."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from celery.signals import worker_process_init

import bharatcrm.celery  # noqa: F401 - connects the receiver


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process goes on collecting as before


def test_a_starting_pool_process_freezes_its_objects(unfrozen: None) -> None:
    assert gc.get_freeze_count() == 0
    worker_process_init.send(sender=None)
    assert gc.get_freeze_count() > 0


def test_objects_made_after_start_are_still_collected(unfrozen: None) -> None:
    worker_process_init.send(sender=None)

    class Cycle:
        other: object

    a, b = Cycle(), Cycle()
    a.other, b.other = b, a
    alive = weakref.ref(a)
    del a, b
    assert gc.collect() > 0
    # The cycle itself was collected (a frozen one never would be). The freeze count is no measure:
    # frozen objects other threads drop are freed by reference counting, so it can only fall.
    assert alive() is None
