"""Meta's subscription check: a GET with ``hub.mode``, ``hub.verify_token`` and ``hub.challenge``."""

from __future__ import annotations

import hmac

from django.http import HttpRequest, HttpResponse

from ...conf import app_settings


def _text(status: int, body: str) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")


def handshake(request: HttpRequest) -> HttpResponse:
    """Echo ``hub.challenge`` when the verify token matches (compared in constant time), else 403."""
    token = app_settings.VERIFY_TOKEN
    given = request.GET.get("hub.verify_token", "")
    if (
        token
        and request.GET.get("hub.mode") == "subscribe"
        and hmac.compare_digest(given.encode(), token.encode())
        and "hub.challenge" in request.GET
    ):
        return _text(200, request.GET["hub.challenge"])
    return _text(403, "Forbidden")
