"""A fake Twilio API served over real HTTP on 127.0.0.1, answering the way Twilio does.

``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (HTTP Basic with the Account SID and Auth
Token) takes a form and answers 201 with a Message resource (``sid`` ``SM…``, ``status`` queued);
Twilio's error bodies (``{"code", "message", "more_info", "status"}``) for bad credentials, and
whatever a test queues. ``GET …/Messages/{MM}/Media/{ME}`` answers, like Twilio, with a redirect
to a short-lived file URL (here on the same server, ``/files/{ME}``), which serves the bytes
without credentials. Our code talks to it through ``requests`` exactly as it would to Twilio.
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
from urllib.parse import parse_qsl, urlsplit

from tests.support.local_server import serving

ACCOUNT_SID = "AC00000000000000000000000000000000"
AUTH_TOKEN = "test_auth_token"
OUR_NUMBER = "+14155550199"


@dataclass
class Reply:
    status: int = 201
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)
    at: float = 0.0


def twilio_error(code: int, message: str, *, status: int = 400) -> Reply:
    return Reply(status=status, body={"code": code, "message": message,
                                      "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status})  # fmt: skip


class FakeTwilio:
    def __init__(self, *, account_sid: str = ACCOUNT_SID, token: str = AUTH_TOKEN) -> None:
        self.account_sid = account_sid
        self.token = token
        self.requests: list[Seen] = []
        self.queued: list[Reply] = []
        self.files: dict[str, tuple[str, bytes]] = {}  # ME sid -> (content type, bytes)
        self.created: list[dict[str, str]] = []  # every message the fake accepted: {"sid", **form}
        self.answer_delay = 0.0  # seconds before a created message's 201: longer than our timeout loses it
        self.base_url = ""
        self._sids = itertools.count(1)
        self._lock = threading.Lock()

    # --- what tests set up and read ---

    def queue(self, *replies: Reply) -> None:
        self.queued.extend(replies)

    def add_file(self, media_sid: str, data: bytes, *, content_type: str = "image/jpeg") -> None:
        self.files[media_sid] = (content_type, data)

    def sends(self) -> list[dict[str, str]]:
        return [r.form for r in self.requests if r.method == "POST" and r.path.endswith("/Messages.json")]

    # --- HTTP ---

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.answer(fake.handle("GET", self.path, dict(self.headers.items()), b""))

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                self.answer(fake.handle("POST", self.path, dict(self.headers.items()), body))

            def answer(self, reply: Reply) -> None:
                if reply.delay:
                    time.sleep(reply.delay)
                data = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
                    self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        with serving(Handler) as base_url:
            self.base_url = base_url
            yield base_url

    def _authorised(self, headers: dict[str, str]) -> bool:
        given = headers.get("Authorization", "")
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.token}".encode()).decode()
        return given == expected

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Reply:
        path = urlsplit(raw_path).path
        form = dict(parse_qsl(body.decode(), keep_blank_values=True)) if method == "POST" else {}
        with self._lock:
            self.requests.append(Seen(method, path, headers, form, time.time()))
        if path.startswith("/files/"):  # the file host: no credentials needed, none expected
            found = self.files.get(path.removeprefix("/files/"))
            if found is None:
                return Reply(status=404, raw=b"<Error><Code>NoSuchKey</Code></Error>", headers={"Content-Type": "application/xml"})  # fmt: skip
            return Reply(status=200, raw=found[1], headers={"Content-Type": found[0]})
        if not self._authorised(headers):
            return twilio_error(20003, "Authenticate", status=401)
        with self._lock:
            if self.queued:
                return self.queued.pop(0)
        prefix = f"/2010-04-01/Accounts/{self.account_sid}/"
        if not path.startswith(prefix):
            return twilio_error(20404, f"The requested resource {path} was not found", status=404)
        rest = path.removeprefix(prefix)
        if method == "POST" and rest == "Messages.json":
            return self._create_message(form)
        parts = rest.split("/")
        if method == "GET" and len(parts) == 4 and parts[0] == "Messages" and parts[2] == "Media":
            if parts[3] not in self.files:
                return twilio_error(20404, f"The requested resource {path} was not found", status=404)
            return Reply(status=307, raw=b"", headers={"Location": f"{self.base_url}/files/{parts[3]}"})
        return twilio_error(20404, f"The requested resource {path} was not found", status=404)

    def _create_message(self, form: dict[str, str]) -> Reply:
        if not form.get("To") or not (form.get("Body") or form.get("ContentSid") or form.get("MediaUrl")):
            return twilio_error(21619, "A text message body or media urls must be specified.")
        if form.get("ContentVariables") and not form.get("ContentSid"):
            return twilio_error(21654, "ContentVariables parameter is only valid when ContentSid is set")
        sid = f"SM{next(self._sids):032x}"
        with self._lock:
            self.created.append({"sid": sid, **form})
        return Reply(status=201, delay=self.answer_delay, body={
            "account_sid": self.account_sid, "api_version": "2010-04-01", "body": form.get("Body", ""),
            "date_created": "Wed, 02 Dec 2026 01:00:00 +0000", "direction": "outbound-api", "error_code": None,
            "error_message": None, "from": form.get("From"), "messaging_service_sid": None, "num_media": "0",
            "num_segments": "1", "price": None, "sid": sid, "status": "queued", "to": form["To"],
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        })  # fmt: skip


def point_settings_at(settings: Any, fake: FakeTwilio, **extra: Any) -> None:
    """Enable Twilio and aim its settings at the fake."""
    settings.WHATSAPP_LEADS = {
        **settings.WHATSAPP_LEADS,
        "PROVIDERS": [
            "whatsapp_leads.providers.meta.MetaProvider",
            "whatsapp_leads.providers.twilio.TwilioProvider",
        ],
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKENS": [fake.token],
        "TWILIO_API_URL": fake.base_url,
        "TWILIO_WHATSAPP_FROM": f"whatsapp:{OUR_NUMBER}",
        "SEND_RATE_BACKEND": "database",
        "SEND_TIMEOUT_SECONDS": (2.0, 5.0),
        **extra,
    }
