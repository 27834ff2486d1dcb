"""Values from webhooks into length-limited columns: display text is cut, ids are refused by name.

A webhook value longer than its column fails the whole update on PostgreSQL (``DataError: value
too long``), and the message and its lead are lost with it. So every service that writes a
parser-filled ``CharField`` passes the value through here, and the limit is read from the model
field itself, never repeated as a number:

- ``fit`` for what people read (names, captions, file names, headlines, error titles): cut to the
  column, ending in ``MARK`` so nobody takes it for the whole value. The full value is still in
  the raw JSON beside it (``Message.payload``, ``Lead.referral``, ``StatusUpdate.payload``).
- ``exact`` for what must match something (message ids, WhatsApp ids, media and ad ids, click
  ids): a cut id would name another thing, so it raises ``TooLong`` naming the field, and only
  that update fails; the event's other updates still apply.
"""

from __future__ import annotations

import functools

from django.db import models

MARK = "…"


class TooLong(ValueError):
    """An id longer than its column: the update cannot be stored faithfully."""

    def __init__(self, label: str, limit: int) -> None:
        super().__init__(f"{label} is longer than {limit} characters")
        self.label, self.limit = label, limit


@functools.lru_cache(maxsize=512)
def limit(model: type[models.Model], field_name: str) -> int | None:
    """The column's ``max_length`` (None: unlimited).

    Cached: a model's fields do not change while the process runs, and every inbound message asks
    a dozen times (``get_field`` each time was a visible share of a follow-up's cost).
    """
    return getattr(model._meta.get_field(field_name), "max_length", None)


def fit(model: type[models.Model], field_name: str, value: str | None) -> str:
    """``value`` cut to the column, ending in ``MARK`` when it was cut; ``None`` reads as ``""``."""
    value = value or ""
    size = limit(model, field_name)
    if size is None or len(value) <= size:
        return value
    return value[: size - len(MARK)] + MARK


def exact(model: type[models.Model], field_name: str, value: str | None, *, label: str) -> str:
    """``value`` unchanged, or ``TooLong`` ("``label`` is longer than N characters")."""
    value = value or ""
    size = limit(model, field_name)
    if size is not None and len(value) > size:
        raise TooLong(label, size)
    return value


def fitted(model: type[models.Model], **values: str | None) -> dict[str, str]:
    """``fit`` for several display columns of one model at once."""
    return {name: fit(model, name, value) for name, value in values.items()}
