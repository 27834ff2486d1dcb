"""Our outbox id in a send's ``StatusCallback`` URL, and back out of a status callback's query string.

Twilio's status callbacks echo nothing of ours in their form (no ``biz_opaque_callback_data``), but
they are posted to the ``StatusCallback`` URL given with the send, and ``X-Twilio-Signature``
covers that full URL, query included. So the outbox's callback string (``wl-outbox:<id>``) goes
into the URL as ``wl_callback``; the first status Twilio reports for a message whose answer we
lost names both its ``MessageSid`` and our row, and the outbox resolves it without a second send.
A forged query cannot pass the signature.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

CALLBACK_PARAM = "wl_callback"
MAX_CALLBACK = 512


def status_callback_url(public_url: str, callback: str) -> str:
    """``public_url`` with ``wl_callback=<callback>`` added to its query (empty URL: no callback)."""
    if not public_url or not callback:
        return public_url
    parts = urlsplit(public_url)
    query = f"{parts.query}&" if parts.query else ""
    query += urlencode({CALLBACK_PARAM: callback[:MAX_CALLBACK]})
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def callback_from_query(query: str) -> str:
    """The ``wl_callback`` value of a stored query string; empty when there is none."""
    if not query:
        return ""
    values = parse_qs(query, keep_blank_values=False).get(CALLBACK_PARAM) or [""]
    return values[-1][:MAX_CALLBACK]
