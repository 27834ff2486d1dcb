"""The providers a host enabled, by name, built once from ``WHATSAPP_LEADS["PROVIDERS"]``.

The cache is dropped when the setting changes, so ``override_settings`` in a test (or a host that
reconfigures at start-up) sees its providers at once.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

from ..conf import DEFAULT_PROVIDER, SETTING_NAME, app_settings
from .base import Provider

__all__ = ["DEFAULT_PROVIDER", "UnknownProvider", "all_providers", "get_provider"]

_cache: dict[str, Provider] | None = None


class UnknownProvider(LookupError):
    """No enabled provider has this name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown provider {name!r}: not in {SETTING_NAME}['PROVIDERS']")
        self.name = name


def _build() -> dict[str, Provider]:
    """One instance per provider class. The settings object has already imported them (naming the
    setting when one does not import), and system check E009 explains a wrong entry at start-up."""
    built: dict[str, Provider] = {}
    for cls in app_settings.PROVIDERS:
        if not (isinstance(cls, type) and issubclass(cls, Provider)) or not cls.name:
            raise ImproperlyConfigured(
                f"{SETTING_NAME}['PROVIDERS']: {cls!r} is not a Provider subclass with a name"
            )
        built[cls.name] = cls()
    return built


def all_providers() -> dict[str, Provider]:
    global _cache
    if _cache is None:
        _cache = _build()
    return _cache


def get_provider(name: str) -> Provider:
    """The enabled provider called ``name``; raises ``UnknownProvider``."""
    try:
        return all_providers()[name]
    except KeyError:
        raise UnknownProvider(name) from None


def _reset(*, setting: str, **kwargs: object) -> None:
    global _cache
    if setting == SETTING_NAME:
        _cache = None


setting_changed.connect(_reset)
