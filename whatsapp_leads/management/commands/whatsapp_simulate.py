"""``manage.py whatsapp_simulate``: post a signed, real-shaped Meta (or Twilio) webhook to a running server.

For people testing by hand: it exercises the same path the provider uses (HTTP, raw bytes, the
``X-Hub-Signature-256`` or ``X-Twilio-Signature`` header), so what works here works with the
provider, and what the server answers is printed as is. ``--provider twilio`` posts Twilio's
form-encoded webhook, signed with the auth token over the URL.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...conf import app_settings
from ...providers.meta.signature import SIGNATURE_HEADER, sign
from ...providers.meta.simulation import dumps, inbound, status_update, wamid
from ...providers.twilio import config as twilio_config
from ...providers.twilio.simulation import STATUS_WORDS as TWILIO_STATUSES
from ...providers.twilio.simulation import simulated_post
from ...services.phones import to_e164

STATUSES = ("sent", "delivered", "read", "played", "failed")
PROVIDERS = ("meta", "twilio")
TIMEOUT_SECONDS = 15
BODY_SHOWN_CHARS = 300
# What a person should check when the webhook refuses the post (the contract's answers).
HINTS = {
    301: "a redirect is not followed: post to the final URL",
    302: "a redirect is not followed: post to the final URL",
    401: "the request carried no signature",
    403: "the signature does not match: is --secret (WHATSAPP_APP_SECRET, or TWILIO_AUTH_TOKEN with "
    "--provider twilio) the server's? With Twilio, is --signed-url the server's TWILIO_PUBLIC_URL?",
    404: "nothing answers at that path: the webhook is /whatsapp/webhook/ (or /whatsapp/webhook/<provider>/)",
    413: "the body is over the server's MAX_BODY_BYTES",
    500: "the server failed: its log has the traceback",
    503: "the server's database is unavailable; Meta would retry",
}


def shown_body(response: requests.Response) -> str:
    """The answer's body for a terminal: a webhook's short text as is, an error page summarised."""
    if "html" in response.headers.get("Content-Type", ""):
        return f"(an HTML page of {len(response.content)} bytes; see the server's log)"
    text = response.text.strip()
    return text if len(text) <= BODY_SHOWN_CHARS else text[:BODY_SHOWN_CHARS] + "..."


def refusal(label: str, answer: str, *, status_code: int) -> str:
    """The error for a non-2xx answer: a script (or CI) must see the post failed, not just read it."""
    hint = HINTS.get(status_code)
    return f"{label} was refused -> {answer}" + (f" ({hint})" if hint else "")


class Command(BaseCommand):
    help = (
        "Build a realistic Meta webhook (an inbound message, optionally from a Click-to-WhatsApp ad, or "
        "a status for a message with --status-of), sign it with the app secret and POST it to --url; "
        "with --provider twilio, Twilio's form webhook signed with the auth token. "
        "Prints the HTTP status and body the server answered; any answer but 2xx is an error (exit "
        "status 1). Example: manage.py whatsapp_simulate "
        "--url http://127.0.0.1:8000/whatsapp/webhook/ --ad-id 120226305854810726 --name Asha "
        '--phone +919876543210 --text "Hi, I\'m interested"'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url", required=True, help="Webhook URL, e.g. http://127.0.0.1:8000/whatsapp/webhook/"
        )
        parser.add_argument(
            "--phone",
            default="+919876543210",
            help="Sender's phone (E.164; without a country code it is read in DEFAULT_PHONE_REGION). "
            'Pass "" with --user-id to simulate a user whose number Meta withholds.',
        )
        parser.add_argument("--name", default="Asha Verma", help="Sender's WhatsApp profile name.")
        parser.add_argument("--text", default="Hi, I'm interested", help="Message text.")
        parser.add_argument(
            "--ad-id",
            default="",
            help="Click-to-WhatsApp ad id (referral source_id); omit for an organic message.",
        )
        parser.add_argument("--ctwa-clid", default="", help="Ad click id; a sample one is used with --ad-id.")
        parser.add_argument(
            "--user-id", default="", help="Business-scoped user id (BSUID), e.g. IN.1349120865530274."
        )
        parser.add_argument(
            "--message-id",
            default="",
            help="Message id (wamid) to send; repeat it (or use --repeat) to simulate Meta redelivering.",
        )
        parser.add_argument(
            "--status-of",
            metavar="WAMID",
            default="",
            help="Send a status for this message instead of a message.",
        )
        parser.add_argument(
            "--status",
            default="delivered",
            choices=sorted({*STATUSES, *TWILIO_STATUSES}),
            help="Status sent with --status-of (Meta: sent, delivered, read, played, failed; Twilio: "
            "queued, sent, delivered, read, failed, undelivered).",
        )
        parser.add_argument(
            "--provider",
            default="meta",
            choices=PROVIDERS,
            help="Whose webhook to simulate: meta (JSON, X-Hub-Signature-256) or twilio (form, "
            "X-Twilio-Signature; post to /whatsapp/webhook/twilio/).",
        )
        parser.add_argument(
            "--error-code", default="", help="Twilio ErrorCode on a failed/undelivered status, e.g. 63016."
        )
        parser.add_argument(
            "--signed-url",
            default="",
            help="Twilio only: the URL to sign, when the server sees another than --url (its "
            "TWILIO_PUBLIC_URL, behind a proxy). Default: TWILIO_PUBLIC_URL, else --url.",
        )
        parser.add_argument(
            "--secret",
            default=None,
            help="App secret to sign with (default: the first of WHATSAPP_LEADS['APP_SECRETS']; with "
            "--provider twilio, the first of TWILIO_AUTH_TOKENS). A wrong one shows the 403 the "
            "provider would never get.",
        )
        parser.add_argument(
            "--print-payload", action="store_true", help="Print each JSON body before posting it."
        )
        parser.add_argument(
            "--repeat",
            type=int,
            default=1,
            help="Post N times (new message id each time unless --message-id).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["provider"] == "twilio":
            return self._handle_twilio(options)
        if options["status"] not in STATUSES:
            raise CommandError(f"--status {options['status']} is Twilio's; Meta's are {', '.join(STATUSES)}.")
        secret = (
            options["secret"] if options["secret"] is not None else next(iter(app_settings.app_secrets), "")
        )
        if not secret:
            raise CommandError(
                "No app secret to sign with: set WHATSAPP_APP_SECRET (WHATSAPP_LEADS['APP_SECRETS']) or pass --secret."
            )
        if options["repeat"] < 1:
            raise CommandError("--repeat must be at least 1.")
        wa_id = self._wa_id(options["phone"])
        if not wa_id and not options["user_id"]:
            raise CommandError("Give the sender a --phone or a --user-id.")

        with requests.Session() as session:
            for _ in range(options["repeat"]):
                payload, label = self._payload(wa_id, options)
                body = dumps(payload)
                if options["print_payload"]:
                    self.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False))
                response = self._post(session, options["url"], body, secret)
                answer = f"HTTP {response.status_code} {response.reason}: {shown_body(response)}"
                if not 200 <= response.status_code < 300:
                    raise CommandError(refusal(label, answer, status_code=response.status_code))
                self.stdout.write(f"{label} -> {answer}")

    def _handle_twilio(self, options: dict[str, Any]) -> None:
        token = options["secret"] if options["secret"] is not None else twilio_config.api_token()
        if not token:
            raise CommandError(
                "No auth token to sign with: set TWILIO_AUTH_TOKEN (WHATSAPP_LEADS['TWILIO_AUTH_TOKENS']) or pass --secret."
            )
        if options["repeat"] < 1:
            raise CommandError("--repeat must be at least 1.")
        if options["status"] not in TWILIO_STATUSES:
            raise CommandError(
                f"--status {options['status']} is Meta's; Twilio's are {', '.join(TWILIO_STATUSES)}."
            )
        wa_id = self._wa_id(options["phone"])
        if not wa_id and not options["user_id"]:
            raise CommandError("Give the sender a --phone or a --user-id.")
        signed_url = options["signed_url"] or twilio_config.public_url() or options["url"]
        with requests.Session() as session:
            for _ in range(options["repeat"]):
                params, body, headers, label = simulated_post(
                    url=signed_url, token=token, phone=f"+{wa_id}" if wa_id else "", name=options["name"],
                    text=options["text"], ad_id=options["ad_id"], ctwa_clid=options["ctwa_clid"],
                    user_id=options["user_id"], message_sid=options["message_id"],
                    status_of=options["status_of"], status=options["status"], error_code=options["error_code"],
                )  # fmt: skip
                if options["print_payload"]:
                    self.stdout.write(json.dumps(params, indent=2, ensure_ascii=False))
                response = self._send(session, options["url"], body, headers)
                answer = f"HTTP {response.status_code} {response.reason}: {shown_body(response)}"
                if not 200 <= response.status_code < 300:
                    raise CommandError(refusal(label, answer, status_code=response.status_code))
                self.stdout.write(f"{label} -> {answer}")

    def _wa_id(self, phone: str) -> str:
        """Meta's ``wa_id`` is the number's digits with the country code and no ``+``."""
        if not phone:
            return ""
        e164 = to_e164(phone)
        if not e164:
            raise CommandError(f"--phone {phone!r} is not a phone number.")
        return e164.lstrip("+")

    def _payload(self, wa_id: str, options: dict[str, Any]) -> tuple[dict[str, Any], str]:
        if options["status_of"]:
            payload = status_update(
                options["status_of"],
                options["status"],
                recipient=wa_id,
                recipient_user_id=options["user_id"] or None,
            )
            return payload, f"status {options['status']} of {options['status_of']}"
        message_id = options["message_id"] or wamid(wa_id or options["user_id"])
        payload = inbound(
            wa_id=wa_id,
            name=options["name"],
            text=options["text"],
            message_id=message_id,
            ad_id=options["ad_id"] or None,
            ctwa_clid=options["ctwa_clid"] or None,
            user_id=options["user_id"] or None,
        )
        source = f" from ad {options['ad_id']}" if options["ad_id"] else ""
        return payload, f"message {message_id}{source}"

    def _post(self, session: requests.Session, url: str, body: bytes, secret: str) -> requests.Response:
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, secret)}
        return self._send(session, url, body, headers)

    def _send(
        self, session: requests.Session, url: str, body: bytes, headers: dict[str, str]
    ) -> requests.Response:
        try:
            # A redirect (http:// to https://, a missing slash) is reported, not followed: POST the final URL.
            return session.post(
                url, data=body, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False
            )
        except requests.ConnectionError as exc:
            raise CommandError(
                f"Could not connect to {url}: is the server running? ({type(exc).__name__})"
            ) from None
        except requests.Timeout:
            raise CommandError(f"{url} did not answer within {TIMEOUT_SECONDS} seconds.") from None
        except requests.RequestException as exc:
            raise CommandError(f"Could not post to {url}: {exc}") from None
