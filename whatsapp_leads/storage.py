"""Where customers' files live: a private storage that has no public URL.

Leads send salary slips, ID cards and photos of their homes. Django's default storage is usually
served as-is from ``MEDIA_URL`` (by nginx, a CDN, a bucket with public reads), where anyone who
guesses a path can read a file. So ``Message.media_file`` uses its own storage, chosen by
``WHATSAPP_LEADS["MEDIA_STORAGE"]``, and files are served only by the permission-checked admin
view (``admin/media.py``).

The field names ``private_media_storage`` (a callable) rather than a storage object, so the
migration records a dotted path instead of freezing a directory, and the storage is resolved
again when the settings change (``override_settings`` in tests, a host swapping backends).
"""

from __future__ import annotations

import os
from typing import cast

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.signals import setting_changed
from django.utils.deconstruct import deconstructible
from django.utils.functional import LazyObject, cached_property, empty
from django.utils.module_loading import import_string

from .conf import SETTING_NAME, app_settings

PRIVATE_DIR = "whatsapp_private"


@deconstructible(path="whatsapp_leads.storage.PrivateFileSystemStorage")
class PrivateFileSystemStorage(FileSystemStorage):
    """Files under ``MEDIA_ROOT / "whatsapp_private"`` (or ``location``), with no URL at all.

    ``FileSystemStorage(base_url=None)`` still falls back to ``MEDIA_URL``; here ``url()`` raises
    ``ValueError`` instead, so no code path can hand out a public link by mistake. The root
    follows ``MEDIA_ROOT`` when that setting changes. Keep this directory out of whatever serves
    ``MEDIA_ROOT`` publicly, or point ``location`` somewhere outside it.
    """

    def __init__(self, location: str | os.PathLike | None = None, **kwargs) -> None:
        kwargs["base_url"] = None
        super().__init__(location=location, **kwargs)
        self._private_location = location

    @cached_property
    def base_location(self) -> str:
        return self._value_or_setting(self._private_location, os.path.join(settings.MEDIA_ROOT, PRIVATE_DIR))

    @cached_property
    def base_url(self) -> None:  # type: ignore[override]  # None on purpose: url() raises ValueError
        return None


def resolve_media_storage(value: object = None) -> Storage:
    """The storage ``MEDIA_STORAGE`` names.

    Empty: the private filesystem storage. A ``STORAGES`` alias: that configured backend (e.g. a
    private S3 bucket). Otherwise a dotted path to a ``Storage`` class (instantiated without
    arguments), to a storage instance, or to a callable returning one.
    """
    value = app_settings.MEDIA_STORAGE if value is None else value
    if not value:
        return PrivateFileSystemStorage()
    if isinstance(value, Storage):
        return value
    if not isinstance(value, str):
        raise TypeError(f"{SETTING_NAME}['MEDIA_STORAGE'] must be a STORAGES alias or a dotted path")
    if value in storages.backends:
        return storages[value]
    target = import_string(value)
    storage = target if isinstance(target, Storage) else target()
    if not isinstance(storage, Storage):
        raise TypeError(f"{SETTING_NAME}['MEDIA_STORAGE'] = {value!r} is not a Django Storage")
    return storage


class MediaStorage(LazyObject):
    """The configured media storage, resolved on first use and again after a settings change."""

    _wrapped: object  # a Storage once resolved, ``empty`` before

    def _setup(self) -> None:
        self._wrapped = resolve_media_storage()


media_storage = MediaStorage()


def private_media_storage() -> Storage:
    """``Message.media_file``'s ``storage=`` callable (referenced by dotted path in migrations)."""
    return cast(Storage, media_storage)  # the lazy proxy behaves as the Storage it resolves to


def _reset(*, setting: str, **kwargs: object) -> None:
    if setting in {SETTING_NAME, "STORAGES"}:
        media_storage._wrapped = empty


setting_changed.connect(_reset)
