"""The API's answer to a path it does not have: DRF's JSON 404, not the host's HTML page.

A client that builds a wrong URL under ``/whatsapp/api/`` (``leads/abc/messages/``: the router's
id pattern refuses it before any view runs) gets the same ``{"detail": ...}`` body as for a lead it
may not see, in the content type the schema documents. Only paths ending in ``/`` are caught, so
Django's APPEND_SLASH still redirects ``leads`` to ``leads/``.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.views import APIView


class NotFoundView(APIView):
    """Every method, authenticated or not: 404 (it reveals nothing the router's own 404 would not)."""

    authentication_classes = ()
    permission_classes = ()
    schema = None  # not an endpoint of the published schema

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        raise NotFound()
