"""A small Graph API client on ``requests.Session``: auth, timeouts, retries, throttling, paging.

Everything Meta-specific about *talking* to the Graph API lives here, so callers only say what
they want (``client.get("120226305854810726", params={"fields": "name"})``) and get a dict or
one ``GraphAPIError``. Waiting is bounded (``max_retries``, ``max_wait``) because a Celery task
or a management command must finish; when Meta asks for longer, the error says how long
(``retry_after``) and the caller reschedules instead of sleeping. ``sleep`` and ``clock`` are
parameters so tests can run the whole retry logic without waiting.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import requests

from ..conf import DEFAULT_GRAPH_URL, DEFAULT_GRAPH_VERSION
from .errors import GraphAPIError, GraphNotConfigured
from .usage import Usage, read_usage
from .versions import Api

logger = logging.getLogger(__name__)
# (connect, read) seconds: Graph answers in well under a second; a stuck socket must not hang a worker.
DEFAULT_TIMEOUT = (5.0, 30.0)
USER_AGENT = "whatsapp-leads"
_TOKEN_IN_TEXT = re.compile(r"(access_token=)[^&\s'\"]+")


def redact(text: str) -> str:
    """Hide tokens that Meta's paging URLs (and so request errors) carry in their query strings."""
    return _TOKEN_IN_TEXT.sub(r"\1***", text)


def configured_token(api: Api | str = Api.MARKETING) -> str:
    """The token for ``api``.

    Marketing (and Conversions) API: ``META_ACCESS_TOKEN``, else the Cloud API's ``ACCESS_TOKEN``.
    Cloud API: ``ACCESS_TOKEN`` only, since a Marketing token has no WhatsApp permissions.
    """
    from ..conf import app_settings

    if Api(api) is Api.CLOUD:
        return (app_settings.ACCESS_TOKEN or "").strip()
    return (app_settings.META_ACCESS_TOKEN or app_settings.ACCESS_TOKEN or "").strip()


def configured_version(api: Api | str = Api.MARKETING) -> str:
    """``CLOUD_API_VERSION`` / ``MARKETING_API_VERSION``, each falling back to ``META_GRAPH_VERSION``."""
    from ..conf import app_settings

    return app_settings.cloud_api_version if Api(api) is Api.CLOUD else app_settings.marketing_api_version


def is_configured(api: Api | str = Api.MARKETING) -> bool:
    return bool(configured_token(api))


class GraphClient:
    """Calls one Graph API version with one token; safe to reuse for many calls, not across threads."""

    def __init__(
        self,
        access_token: str,
        *,
        base_url: str = DEFAULT_GRAPH_URL,
        version: str = DEFAULT_GRAPH_VERSION,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = 4,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        max_wait: float = 120.0,
        usage_threshold: float = 95.0,
        near_limit_pause: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        session: requests.Session | None = None,
    ) -> None:
        if not access_token:
            raise GraphNotConfigured()
        self.base_url = base_url.rstrip("/")
        self.version = version.strip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_wait = max_wait
        self.usage_threshold = usage_threshold
        self.near_limit_pause = near_limit_pause
        self.sleep = sleep
        self.clock = clock
        self.last_usage = Usage()
        self._paused_until = 0.0
        self.session = session or requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {access_token}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            }
        )

    @classmethod
    def from_settings(cls, *, api: Api | str = Api.MARKETING, **options: Any) -> GraphClient:
        """A client for one API with ``WHATSAPP_LEADS``' URL, that API's version and token.

        ``api="marketing"`` (the default) for ad, insights and conversions calls, ``api="cloud"``
        for the WhatsApp Cloud API (media, sending, templates). ``GraphNotConfigured`` without a
        token, before any request.
        """
        from ..conf import app_settings

        api = Api(api)
        token = configured_token(api)
        if not token:
            if api is Api.CLOUD:
                raise GraphNotConfigured(
                    "No WhatsApp access token is configured: set WHATSAPP_ACCESS_TOKEN "
                    "(WHATSAPP_LEADS['ACCESS_TOKEN']) to use the Cloud API."
                )
            raise GraphNotConfigured()
        options.setdefault("base_url", app_settings.graph_url)
        options.setdefault("version", configured_version(api))
        return cls(token, **options)

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    def url(self, path: str) -> str:
        return f"{self.base_url}/{self.version}/{path.lstrip('/')}"

    def get(self, path: str, *, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET ``/{version}/{path}``; Meta's JSON object, or ``GraphAPIError``."""
        return self._request("GET", self.url(path), params=params)

    def post(
        self, path: str, *, json: dict[str, Any] | None = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """POST a JSON body to ``/{version}/{path}``; Meta's JSON object, or ``GraphAPIError``.

        Retried like a GET (``max_retries``): only use it with retries for calls that are safe to
        repeat, or build the client with ``max_retries=0`` and retry from an outbox.
        """
        return self._request("POST", self.url(path), params=params, json=json)

    def paginate(
        self, path: str, *, params: dict[str, Any] | None = None, max_pages: int = 10_000
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield each page's ``data`` list, following ``paging.next`` until Meta stops sending one.

        An empty page with a ``next`` link is followed (Meta sends those); a ``next`` link to
        another host is refused, since it would receive our token.
        """
        url = self.url(path)
        query = params
        seen: set[str] = set()
        for _ in range(max_pages):
            body = self._request("GET", url, params=query)
            data = body.get("data")
            yield [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []
            paging = body.get("paging")
            next_url = paging.get("next") if isinstance(paging, dict) else None
            if not next_url or not isinstance(next_url, str):
                return
            self._check_next(next_url, seen)
            seen.add(next_url)
            url, query = next_url, None  # the next link carries the whole query
        raise GraphAPIError(f"paging through {path} did not end after {max_pages} pages", retryable=False)

    # --- internals -------------------------------------------------------------------------

    def _check_next(self, url: str, seen: set[str]) -> None:
        ours, theirs = urlsplit(self.base_url), urlsplit(url)
        if (ours.scheme, ours.netloc) != (theirs.scheme, theirs.netloc):
            raise GraphAPIError(f"refusing to follow a paging link to {theirs.netloc}", retryable=False)
        if url in seen:
            raise GraphAPIError("Meta's paging links go round in a circle", retryable=False)

    def _backoff(self, attempt: int) -> float:
        return float(min(self.max_backoff, self.backoff * 2**attempt))

    def _note_usage(self, usage: Usage) -> None:
        self.last_usage = usage
        pause = usage.pause(threshold=self.usage_threshold, near_limit_pause=self.near_limit_pause)
        if pause > 0:
            self._paused_until = max(self._paused_until, self.clock() + pause)

    def _wait_for_quota(self, *, waited: float) -> float:
        """Sleep out a pause Meta's usage headers asked for; give up when it exceeds the budget."""
        pause = self._paused_until - self.clock()
        if pause <= 0:
            return 0.0
        if waited + pause > self.max_wait:
            usage = self.last_usage
            raise GraphAPIError(
                f"Meta's rate limit is nearly used up ({usage.percent:.0f}% of quota); "
                f"waiting {pause:.0f}s would exceed this call's {self.max_wait:.0f}s budget",
                type="RateLimitPause",
                retryable=True,
                retry_after=pause,
            )
        logger.info("Graph API usage at %.0f%%: pausing %.1fs", self.last_usage.percent, pause)
        self.sleep(pause)
        return pause

    def _attempt(
        self, method: str, *, url: str, params: dict[str, Any] | None, json: Any = None
    ) -> dict[str, Any]:
        try:
            response = self.session.request(method, url, params=params, json=json, timeout=self.timeout)
        except requests.RequestException as exc:
            raise GraphAPIError(
                f"could not reach the Graph API: {redact(str(exc))}", type=type(exc).__name__, retryable=True
            ) from None
        usage = read_usage(response.headers)
        self._note_usage(usage)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.ok and isinstance(body, dict) and "error" not in body:
            return body
        if response.ok and not isinstance(body, dict):
            raise GraphAPIError(f"HTTP {response.status_code} with a body that is not a JSON object")
        raise GraphAPIError.from_response(
            body, http_status=response.status_code, retry_after=usage.regain_seconds or None
        )

    def _request(
        self, method: str, url: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> dict[str, Any]:
        where = redact(urlsplit(url).path)
        waited = 0.0
        attempt = 0
        while True:
            waited += self._wait_for_quota(waited=waited)
            try:
                return self._attempt(method, url=url, params=params, json=json)
            except GraphAPIError as error:
                error.attempts = attempt + 1
                if not error.retryable:
                    raise
                # Meta's own estimate and any pause its usage headers asked for beat our backoff.
                pause = self._paused_until - self.clock()
                delay = max(self._backoff(attempt), error.retry_after or 0.0, pause)
                if attempt >= self.max_retries or waited + delay > self.max_wait:
                    error.retry_after = max(delay, error.retry_after or 0.0)
                    logger.warning(
                        "Graph API %s %s: giving up after %d attempts: %s", method, where, attempt + 1, error
                    )
                    raise
                logger.warning("Graph API %s %s failed (%s); retrying in %.1fs", method, where, error, delay)
                self.sleep(delay)
                waited += delay
                attempt += 1
