"""A WSGI wrapper that hands signed webhook POSTs straight to the webhook view.

A webhook POST needs none of what Django's request cycle does around a view: no session, user,
CSRF token, messages, URL resolution or template. On the 2-core bench machine that cycle (the
middleware chain, URL resolving, ``request_started``/``request_finished`` and their connection
checks, the response's ``close()``) was about 0.2 ms of the webhook's 0.5 ms of Python per request,
while the view itself is one INSERT. ``with_webhook_fast_path(application)`` answers exactly the
app's webhook URLs' POSTs by calling ``views.webhook`` itself, with the same ``WSGIRequest`` Django
would build, and passes every other request (the handshake GET, the admin, the API, a path it
does not know) to ``application`` untouched. The answers are the view's, so the contract
(401/403/413/503/200) is unchanged.

What a webhook POST gives up by taking this path, and how each is kept:

- ``ALLOWED_HOSTS``: checked here (``request.get_host()``, as ``CommonMiddleware`` does), 400 on a
  disallowed host, as Django answers.
- ``SECURE_SSL_REDIRECT``: a plain-HTTP request is left to Django, which redirects it.
- Connection hygiene (``close_old_connections`` on both signals): the webhook's own database
  connection is checked after every request (``CONN_MAX_AGE``, a broken connection), and a dead
  kept connection is replaced by the intake itself (``services.intake._write``).
- An unexpected exception: logged on ``django.request`` with the request, answered 500 as
  Django would, and ``got_request_exception`` is sent (error reporters listen to it).
- A host's own middleware does not see webhook POSTs. A host that needs it there (request ids,
  audit) leaves the wrapper out of its ``wsgi.py`` or sets ``WHATSAPP_LEADS["WEBHOOK_FAST_PATH"]``
  to ``False``; the view answers the same through Django's full cycle.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core import signals
from django.core.exceptions import SuspiciousOperation
from django.core.handlers.wsgi import WSGIRequest
from django.db import connections, router
from django.http import HttpResponse, HttpResponseBase
from django.urls import NoReverseMatch, get_script_prefix, reverse

from . import views
from .conf import app_settings
from .models import WebhookEvent
from .providers.registry import DEFAULT_PROVIDER, all_providers

logger = logging.getLogger("django.request")

WSGIApplication = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def webhook_paths() -> dict[str, str]:
    """``PATH_INFO`` of each webhook URL of the app, to the provider it belongs to.

    Read from the URLconf (wherever the host mounted ``whatsapp_leads.urls``), without the script
    prefix: ``PATH_INFO`` never carries it. Empty when the app's URLs are not mounted.
    """
    paths: dict[str, str] = {}
    try:
        paths[reverse("whatsapp_leads:webhook")] = DEFAULT_PROVIDER
        for name in all_providers():
            paths[reverse("whatsapp_leads:provider_webhook", kwargs={"provider": name})] = name
    except NoReverseMatch:
        return {}
    return paths


def _strip_prefix(paths: dict[str, str]) -> dict[str, str]:
    prefix = get_script_prefix()
    if prefix == "/":
        return paths
    return {"/" + path.removeprefix(prefix): name for path, name in paths.items()}


def _finish(response: HttpResponseBase, start_response: Callable[..., Any]) -> list[bytes]:
    """Start the WSGI response; its body as one chunk (no ``close()``: it would fire ``request_finished``)."""
    headers = [*response.items(), *(("Set-Cookie", c.OutputString()) for c in response.cookies.values())]
    start_response(f"{response.status_code} {response.reason_phrase}", headers)
    return [response.content] if isinstance(response, HttpResponse) else [b"".join(response)]


def _after(alias: str) -> None:
    """What ``close_old_connections`` does after a request, for the one connection the view used.

    Not inside a transaction that outlives the request (a test's): Django's test client
    disconnects ``close_old_connections`` for the same reason.
    """
    connection = connections[alias]
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()


def with_webhook_fast_path(application: WSGIApplication) -> WSGIApplication:
    """``application``, with the app's webhook POSTs answered by the view directly (module docstring).

    Returns ``application`` itself when ``WEBHOOK_FAST_PATH`` is off. Call it after
    ``get_wsgi_application()`` (the URLconf must be importable to find the webhook URLs).
    """
    if not app_settings.WEBHOOK_FAST_PATH:
        return application
    paths = _strip_prefix(webhook_paths())
    if not paths:
        return application
    alias = router.db_for_write(WebhookEvent)
    redirect_plain_http = bool(settings.SECURE_SSL_REDIRECT)

    def fast_path(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        provider = paths.get(environ.get("PATH_INFO", ""))
        if provider is None or environ.get("REQUEST_METHOD") != "POST" or provider not in all_providers():
            return application(environ, start_response)  # a provider no longer listed: Django's 404
        request = WSGIRequest(environ)
        if redirect_plain_http and not request.is_secure():
            return application(environ, start_response)
        try:
            request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware checks it
            response: HttpResponseBase = views.webhook(request, provider=provider)
        except SuspiciousOperation as error:
            logging.getLogger(f"django.security.{error.__class__.__name__}").error(str(error))
            response = HttpResponse(b"Bad Request", status=400, content_type="text/plain; charset=utf-8")
        except Exception:
            signals.got_request_exception.send(sender=None, request=request)
            logger.exception(
                "Internal Server Error: %s", request.path, extra={"status_code": 500, "request": request}
            )
            response = HttpResponse(b"Server Error", status=500, content_type="text/plain; charset=utf-8")
        finally:
            _after(alias)
        return _finish(response, start_response)

    fast_path.__wrapped__ = application  # type: ignore[attr-defined]
    return fast_path
