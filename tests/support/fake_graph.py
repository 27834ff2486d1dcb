"""A fake Graph API served over real HTTP on 127.0.0.1, answering the way Meta does.

It knows ad accounts, campaigns, ad sets and ads; honours Graph field expansion
(``fields=name,adset{id,name}``); pages edges with ``paging.cursors`` and absolute ``paging.next``
links (carrying ``access_token``, as Meta's do); checks the bearer token; and returns Meta's
error bodies for unknown ids (100), expired tokens (190) and whatever a test queues up (rate
limits, 5xx). Our client talks to it through ``requests`` exactly as it would talk to Meta.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.support.local_server import serving
from whatsapp_leads.conf import DEFAULT_GRAPH_VERSION

TOKEN = "test-meta-access-token"
VERSION = DEFAULT_GRAPH_VERSION  # a client built with the defaults reaches the fake
QUIET_USAGE = {"X-App-Usage": json.dumps({"call_count": 3, "total_time": 2, "total_cputime": 1})}
_trace = itertools.count(1)


def fbtrace_id() -> str:
    return f"AQx{next(_trace):05d}Zk3mNvTq9"


@dataclass
class Reply:
    """One HTTP answer: status, JSON body (or raw text), headers.

    ``delay`` holds the answer back that many seconds (a client with a shorter read timeout gives
    up after its request went out); ``accept`` makes a delayed send count as accepted anyway, as
    Meta would, so a test can prove the lost answer is never sent twice.
    """

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    accept: bool = False


@dataclass
class Seen:
    """A request the fake received (``json`` for JSON POST bodies, ``at`` its arrival time)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any = None
    body: bytes = b""
    at: float = 0.0


# --- Meta's error answers ----------------------------------------------------------------------

RATE_LIMIT_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80004: "There have been too many calls to this ad-account. Wait a bit and try again. For more info, "
    "please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting#ads-management.",
}


def error_body(
    message: str, *, code: int, type: str = "OAuthException", subcode: int | None = None, **extra: Any
):
    error: dict[str, Any] = {"message": message, "type": type, "code": code, **extra}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = fbtrace_id()
    return {"error": error}


def business_usage(*, percent: int = 100, regain_minutes: int = 0) -> dict[str, str]:
    """The ``X-Business-Use-Case-Usage`` header Meta sends for an ad account."""
    usage = {"1001": [{"type": "ads_management", "call_count": percent, "total_cputime": 34,
                       "total_time": 41, "estimated_time_to_regain_access": regain_minutes,
                       "ads_api_access_tier": "standard_access"}]}  # fmt: skip
    return {"X-Business-Use-Case-Usage": json.dumps(usage)}


def rate_limited(code: int, *, headers: dict[str, str] | None = None) -> Reply:
    """A throttling error as Meta words it, with any usage headers the test wants alongside."""
    transient: dict[str, Any] = {"is_transient": True} if code in (4, 17, 80004) else {}
    subcode = 2446079 if code in (17, 80004) else None
    return Reply(
        400, error_body(RATE_LIMIT_MESSAGES[code], code=code, subcode=subcode, **transient), headers or {}
    )


def server_error(status: int = 500) -> Reply:
    return Reply(
        status,
        error_body(
            "An unexpected error has occurred. Please retry your request later.", code=2, is_transient=True
        ),
    )


def unavailable_html() -> Reply:
    """What a load balancer in front of Graph answers: not JSON at all."""
    return Reply(
        503, "<html><body><h1>503 Service Unavailable</h1></body></html>", {"Content-Type": "text/html"}
    )


def expired_token() -> Reply:
    return Reply(
        400,
        error_body(
            "Error validating access token: Session has expired on Tuesday, 17-Nov-26 04:00:00 PST. "
            "The current time is Tuesday, 24-Nov-26 05:12:09 PST.",
            code=190,
            subcode=463,
        ),
    )


def unknown_object(object_id: str) -> Reply:
    return Reply(
        400,
        error_body(
            f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be loaded due to "
            "missing permissions, or does not support this operation. Please read the Graph API "
            "documentation at https://developers.facebook.com/docs/graph-api",
            code=100,
            subcode=33,
            type="GraphMethodException",
        ),
    )


def send_error(code: int, message: str, *, details: str = "", status: int = 400) -> Reply:
    """A Cloud API send refusal as Meta words it (``error_data.details`` carries the explanation)."""
    return Reply(
        status,
        error_body(message, code=code, error_data={"messaging_product": "whatsapp", "details": details}),
    )


# Meta's wording for the send errors the outbox maps (titles as on the error-codes page).
SEND_ERRORS: dict[int, tuple[str, str]] = {
    131047: ("Re-engagement message", "Message failed to send because more than 24 hours have passed since the customer last replied to this number."),
    131026: ("Message undeliverable", "Unable to deliver message. Reasons can include: the recipient phone number is not a WhatsApp phone number."),
    131049: ("This message was not delivered to maintain healthy ecosystem engagement.", "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."),
    130472: ("User's number is part of an experiment", "Failed to send message because this user's phone number is part of an experiment"),
    131050: ("Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business", ""),
    131062: ("Business-scoped User ID (BSUID) recipients are not supported for this message.", ""),
    132001: ("Template name does not exist in the translation", "template name (order_update) does not exist in en_US"),
    132000: ("Number of parameters does not match the expected number of params", "body: number of localizable_params (1) does not match the expected number of params (2)"),
    190: ("Error validating access token: Session has expired on Tuesday, 17-Nov-26 04:00:00 PST.", ""),
    130429: ("(#130429) Rate limit hit", "Cloud API message throughput has been reached."),
    131056: ("(#131056) (Business Account, Consumer Account) pair rate limit hit", "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time."),
    80007: ("(#80007) Rate limit issues", "The WhatsApp Business Account has reached its rate limit."),
    4: ("(#4) Application request limit reached", ""),
}  # fmt: skip


def meta_send_error(code: int) -> Reply:
    title, details = SEND_ERRORS[code]
    return send_error(code, title, details=details)


def ok(body: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
    return Reply(200, body, {**QUIET_USAGE, **(headers or {})})


# --- field expansion ---------------------------------------------------------------------------


def parse_fields(spec: str) -> dict[str, Any]:
    """``"name,adset{id,name}"`` -> ``{"name": None, "adset": {"id": None, "name": None}}``."""
    result: dict[str, Any] = {}
    depth, start = 0, 0
    for i, char in enumerate(spec + ","):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            part = spec[start:i].strip()
            start = i + 1
            if not part:
                continue
            if "{" in part:
                name, inner = part.split("{", 1)
                result[name.strip()] = parse_fields(inner[:-1])
            else:
                result[part] = None
    return result


class FakeGraph:
    """The Graph API of a few ad accounts. Add objects, optionally queue replies, then ``serve()``."""

    def __init__(self, *, token: str = TOKEN, version: str = VERSION, max_page_size: int = 2) -> None:
        self.token = token
        self.version = version
        self.max_page_size = max_page_size
        self.objects: dict[str, dict[str, Any]] = {}
        self.edges: dict[str, dict[str, list[str]]] = {}
        self.queued: list[tuple[str, Reply]] = []
        self.requests: list[Seen] = []
        self.base_url = ""
        self.token_expired = False
        self.throughput: int | None = None  # answer 130429 past this many sends a second per number
        self.sent: list[Seen] = []  # accepted sends, in order
        self.accepted_callbacks: list[str] = []
        self.uploads: list[Seen] = []
        self._wamids = itertools.count(1)
        # ad loop: Conversions API datasets (WABA id -> dataset id), the events each received, and
        # insights rows per ad account (Meta's shape: strings for numbers).
        self.datasets: dict[str, str] = {}
        self.received_events: dict[str, list[dict[str, Any]]] = {}
        self.insights: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    # --- the world ---

    def account(self, account_id: str) -> dict[str, list[str]]:
        return self.edges.setdefault(account_id, {"adsets": [], "ads": [], "campaigns": []})

    def add_campaign(
        self, campaign_id: str, *, name: str, account: str, objective: str = "OUTCOME_ENGAGEMENT",
        status: str = "ACTIVE",
    ) -> dict[str, Any]:  # fmt: skip
        obj = {"id": campaign_id, "name": name, "objective": objective, "status": status,
               "account_id": account.removeprefix("act_")}  # fmt: skip
        self.objects[campaign_id] = obj
        self.account(account)["campaigns"].append(campaign_id)
        return obj

    def add_adset(
        self, adset_id: str, *, name: str, campaign_id: str, account: str, destination_type: str = "WHATSAPP",
        status: str = "ACTIVE",
    ) -> dict[str, Any]:  # fmt: skip
        obj = {"id": adset_id, "name": name, "campaign_id": campaign_id, "destination_type": destination_type,
               "status": status, "effective_status": status, "account_id": account.removeprefix("act_")}  # fmt: skip
        self.objects[adset_id] = obj
        self.account(account)["adsets"].append(adset_id)
        return obj

    def add_ad(
        self, ad_id: str, *, name: str, adset_id: str, account: str, status: str = "ACTIVE"
    ) -> dict[str, Any]:
        adset = self.objects[adset_id]
        obj = {"id": ad_id, "name": name, "adset_id": adset_id, "campaign_id": adset["campaign_id"],
               "status": status, "effective_status": status, "account_id": account.removeprefix("act_")}  # fmt: skip
        self.objects[ad_id] = obj
        self.account(account)["ads"].append(ad_id)
        return obj

    def add_template(self, waba_id: str, template: dict[str, Any]) -> dict[str, Any]:
        """A template on the WABA's ``message_templates`` edge (paged like every edge)."""
        obj = {"id": str(template.get("id") or f"{900000 + len(self.objects)}"), **template}
        self.objects[obj["id"]] = obj
        self.edges.setdefault(waba_id, {}).setdefault("message_templates", []).append(obj["id"])
        return obj

    def queue(self, path_contains: str, *replies: Reply) -> None:
        """Answer the next requests whose path contains ``path_contains`` with ``replies``, in order."""
        self.queued.extend((path_contains, reply) for reply in replies)

    def requests_to(self, path_contains: str) -> list[Seen]:
        return [r for r in self.requests if path_contains in r.path]

    # --- HTTP ---

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self.answer(fake.handle("GET", self.path, dict(self.headers.items())))

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                self.answer(fake.handle_post(self.path, dict(self.headers.items()), body))

            def answer(self, reply: Reply) -> None:
                if reply.delay:
                    time.sleep(reply.delay)
                raw = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                data = raw.encode()
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json; charset=UTF-8", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        with serving(Handler) as base_url:
            self.base_url = base_url
            yield base_url

    def handle(self, method: str, raw_path: str, headers: dict[str, str]) -> Reply:
        parts = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            self.requests.append(Seen(method=method, path=parts.path, query=query, headers=headers))
            for index, (fragment, reply) in enumerate(self.queued):
                if fragment in parts.path:
                    del self.queued[index]
                    return reply
        bearer = headers.get("Authorization", "").removeprefix("Bearer ")
        if self.token_expired:
            return expired_token()
        if self.token not in (bearer, query.get("access_token")):
            return Reply(400, error_body("Invalid OAuth access token - Cannot parse access token", code=190))
        segments = [s for s in parts.path.split("/") if s]
        if not segments or segments[0] != self.version:
            return Reply(400, error_body(f"Unknown path components: {parts.path}", code=2500))
        fields = parse_fields(query.get("fields", "id,name"))
        if len(segments) == 2:
            obj = self.objects.get(segments[1])
            return ok(self.render(obj, fields)) if obj else unknown_object(segments[1])
        if len(segments) == 3 and segments[2] == "dataset":
            found = self.datasets.get(segments[1])
            return ok({"data": [{"id": found}] if found else []})
        if len(segments) == 3 and segments[2] == "insights" and segments[1] in self.insights:
            return self.insights_page(parts.path, segments[1], query)
        if len(segments) == 3 and segments[1] in self.edges and segments[2] in (
            "adsets", "ads", "campaigns", "message_templates"
        ):  # fmt: skip
            return self.page(parts.path, segments[1], segments[2], query, fields)
        return unknown_object(segments[1])

    def _authorised(self, headers: dict[str, str]) -> Reply | None:
        bearer = headers.get("Authorization", "").removeprefix("Bearer ")
        if self.token_expired:
            return expired_token()
        if bearer != self.token:
            return Reply(400, error_body("Invalid OAuth access token - Cannot parse access token", code=190))
        return None

    def handle_post(self, raw_path: str, headers: dict[str, str], body: bytes) -> Reply:
        """``/{version}/{phone_number_id}/messages`` (send, mark read) and ``/media`` (upload)."""
        path = urlsplit(raw_path).path
        try:
            data = json.loads(body) if "json" in headers.get("Content-Type", "") else None
        except ValueError:
            data = None
        seen = Seen(method="POST", path=path, query={}, headers=headers, json=data, body=body, at=time.time())
        segments = [s for s in path.split("/") if s]
        with self._lock:
            self.requests.append(seen)
            queued = None
            for index, (fragment, reply) in enumerate(self.queued):
                if fragment in path:
                    queued = self.queued.pop(index)[1]
                    break
        if queued is not None and not queued.accept:
            return queued
        refused = self._authorised(headers)
        if refused:
            return refused
        if len(segments) != 3 or segments[0] != self.version:
            return Reply(400, error_body(f"Unknown path components: {path}", code=2500))
        if segments[2] == "events":  # the Conversions API
            return self.capi_post(segments, data)
        if segments[2] == "media":
            with self._lock:
                self.uploads.append(seen)
                return ok({"id": f"{4490000000 + len(self.uploads)}"})
        if segments[2] != "messages" or not isinstance(data, dict):
            return unknown_object(segments[1])
        if data.get("status") == "read":
            return ok({"success": True})
        with self._lock:
            if self.throughput is not None:
                recent = [s for s in self.sent if s.path == path and s.at > seen.at - 1.0]
                if len(recent) >= self.throughput:
                    return meta_send_error(130429)
            self.sent.append(seen)
            if data.get("biz_opaque_callback_data"):
                self.accepted_callbacks.append(data["biz_opaque_callback_data"])
            wamid = f"wamid.FAKE{next(self._wamids):08d}"
        contact = {"input": data.get("to") or data.get("recipient", "")}
        if data.get("to"):
            contact["wa_id"] = str(data["to"]).lstrip("+")
        else:
            contact["user_id"] = data.get("recipient", "")
        answer = ok({"messaging_product": "whatsapp", "contacts": [contact],
                     "messages": [{"id": wamid, "message_status": "accepted"}]})  # fmt: skip
        if queued is not None:  # accepted, but answered late (a lost answer)
            answer.delay = queued.delay
        return answer

    def sends(self) -> list[dict[str, Any]]:
        """The JSON bodies of accepted sends, in order."""
        return [s.json for s in self.sent]

    def render(self, obj: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, sub in fields.items():
            linked = obj.get(f"{name}_id") if name in ("adset", "campaign") else None
            if linked and linked in self.objects:
                out[name] = self.render(self.objects[linked], sub or {"id": None})
            elif name in obj:
                out[name] = obj[name]
        out["id"] = obj["id"]  # Graph always answers with the id
        return out

    def page(
        self, path: str, account: str, edge: str, query: dict[str, str], fields: dict[str, Any]
    ) -> Reply:
        ids = self.edges[account][edge]
        limit = min(int(query.get("limit", 25)), self.max_page_size)
        start = int(base64.b64decode(query["after"]).decode()) + 1 if query.get("after") else 0
        chunk = ids[start : start + limit]
        body: dict[str, Any] = {"data": [self.render(self.objects[i], fields) for i in chunk]}
        if chunk:
            cursors = {
                "before": base64.b64encode(str(start).encode()).decode(),
                "after": base64.b64encode(str(start + len(chunk) - 1).encode()).decode(),
            }
            body["paging"] = {"cursors": cursors}
            if start + len(chunk) < len(ids):
                next_query = {
                    **query,
                    "access_token": self.token,
                    "limit": str(limit),
                    "after": cursors["after"],
                }
                body["paging"]["next"] = f"{self.base_url}{path}?{urlencode(next_query)}"
            if start > 0:
                prev_query = {k: v for k, v in query.items() if k != "after"}
                prev_query.update(access_token=self.token, limit=str(limit), before=cursors["before"])
                body["paging"]["previous"] = f"{self.base_url}{path}?{urlencode(prev_query)}"
        return ok(body)

    # --- ad loop: Conversions API and insights ---------------------------------------------------

    def add_dataset(self, waba_id: str, dataset_id: str) -> None:
        self.datasets[waba_id] = dataset_id
        self.received_events.setdefault(dataset_id, [])

    def events_at(self, dataset_id: str) -> list[dict[str, Any]]:
        """Every event (an item of ``data``) the dataset accepted, in order."""
        return list(self.received_events.get(dataset_id, []))

    def capi_post(self, segments: list[str], body: Any) -> Reply:
        if len(segments) != 3 or segments[2] != "events":
            return unknown_object(segments[1] if len(segments) > 1 else "")
        dataset = segments[1]
        if dataset not in self.received_events:
            return unknown_object(dataset)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or not data:
            return Reply(400, error_body("(#100) The parameter data is required", code=100))
        for event in data:
            if event.get("event_name") not in CAPI_EVENT_NAMES:
                return Reply(400, error_body("Messaging Event Invalid Event Type", code=100, subcode=2804066,
                                              error_user_title="Messaging Event Invalid Event Type"))  # fmt: skip
        with self._lock:
            self.received_events[dataset].extend(data)
        return ok({"events_received": len(data), "messages": [], "fbtrace_id": fbtrace_id()})

    def add_insight(self, account: str, **row: Any) -> None:
        """One insights row (``ad_id``, ``date_start``, ``spend``...), as Meta would send it."""
        row.setdefault("date_stop", row.get("date_start"))
        self.insights.setdefault(account, []).append(row)

    def insights_page(self, path: str, account: str, query: dict[str, str]) -> Reply:
        window = json.loads(query["time_range"]) if query.get("time_range") else {}
        rows = [
            r for r in self.insights[account]
            if window.get("since", "") <= r["date_start"] <= window.get("until", "9999")
        ]  # fmt: skip
        limit = min(int(query.get("limit", 25)), self.max_page_size)
        start = int(base64.b64decode(query["after"]).decode()) + 1 if query.get("after") else 0
        chunk = rows[start : start + limit]
        body: dict[str, Any] = {"data": chunk}
        if chunk:
            after = base64.b64encode(str(start + len(chunk) - 1).encode()).decode()
            body["paging"] = {"cursors": {"before": "MAZDZD", "after": after}}
            if start + len(chunk) < len(rows):
                next_query = {**query, "access_token": self.token, "limit": str(limit), "after": after}
                body["paging"]["next"] = f"{self.base_url}{path}?{urlencode(next_query)}"
        return ok(body)


# Names Meta accepts for business messaging (the onboarding guide's list); anything else is 2804066.
CAPI_EVENT_NAMES = frozenset(
    {"Purchase", "LeadSubmitted", "InitiateCheckout", "AddToCart", "ViewContent", "OrderCreated", "OrderShipped",
     "OrderDelivered", "OrderCanceled", "OrderReturned", "CartAbandoned", "QualifiedLead", "RatingProvided",
     "ReviewProvided"}
)  # fmt: skip


class FakeClock:
    """``clock`` and ``sleep`` for GraphClient: sleeping advances time instantly and is recorded."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def point_settings_at(settings: Any, fake: FakeGraph, **extra: Any) -> None:
    """Aim WHATSAPP_LEADS at the fake (URL, version, token), with ``extra`` overrides."""
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "META_GRAPH_URL": fake.base_url,
        "META_GRAPH_VERSION": fake.version,
        "META_ACCESS_TOKEN": fake.token,
        "ACCESS_TOKEN": "",
        "META_AD_ACCOUNT_IDS": [],
        **extra,
    }
