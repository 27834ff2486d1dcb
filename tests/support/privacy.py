"""Searching every table and the media storage for a person's data, for the erasure tests.

Generic on purpose: every concrete column of every installed model, whatever its type, and every
file under MEDIA_ROOT, so a table another change adds is searched without touching the tests.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from django.apps import apps
from django.db import models


def _text(value: object) -> str:
    if isinstance(value, memoryview | bytes):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def found_in_tables(needles: Iterable[str]) -> list[str]:
    """``"app.Model #pk field: needle"`` for every column of every row holding one of ``needles``."""
    needles = [n for n in needles if n]
    hits = []
    for model in apps.get_models():
        fields = model._meta.concrete_fields
        for row in model._base_manager.all().iterator():
            for field in fields:
                value = field.value_from_object(row)
                if isinstance(field, models.FileField):
                    value = value.name if value else ""
                text = _text(value)
                hits += [f"{model._meta.label} #{row.pk} {field.name}: {n}" for n in needles if n in text]
    return hits


def files_under(root: str | os.PathLike) -> list[Path]:
    return [p for p in Path(root).rglob("*") if p.is_file()]


def found_in_files(root: str | os.PathLike, needles: Iterable[str]) -> list[str]:
    """Files under ``root`` whose name or bytes hold one of ``needles``."""
    needles = [n for n in needles if n]
    hits = []
    for path in files_under(root):
        data = path.read_bytes()
        hits += [f"{path}: {n}" for n in needles if n in path.name or n.encode() in data]
    return hits
