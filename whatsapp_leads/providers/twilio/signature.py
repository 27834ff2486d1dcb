"""``X-Twilio-Signature``: base64 HMAC-SHA1 of the URL Twilio called plus the sorted POST parameters.

The algorithm is twilio-python's ``RequestValidator``: the full URL (scheme, host, path, query) as
configured in Twilio's console, then each form parameter's name and value appended in sorted name
order with no separators, keyed with the account's Auth Token. Twilio signs inconsistently with
and without the default port, so both forms are tried. A JSON body is signed differently: the
URL carries ``bodySHA256=<hex sha256 of the body>`` and the signature covers the URL alone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qs, parse_qsl, urlsplit, urlunsplit

SIGNATURE_HEADER = "X-Twilio-Signature"
DEFAULT_PORTS = {"https": 443, "http": 80}


def form_params(body: bytes) -> list[tuple[str, str]]:
    """The POST parameters of a form body, as Twilio's validator sees them (blank values kept)."""
    return parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)


def signing_string(url: str, params: Iterable[tuple[str, str]]) -> str:
    """The URL, then ``name + value`` of every parameter in sorted order (repeated names: sorted values)."""
    return url + "".join(name + value for name, value in sorted(params))


def sign(url: str, params: Iterable[tuple[str, str]], token: str) -> str:
    """The header value Twilio sends for this request; used by the simulator and tests."""
    digest = hmac.new(token.encode(), signing_string(url, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def url_variants(url: str) -> list[str]:
    """``url`` as given, plus the same URL with the default port added (or removed)."""
    parts = urlsplit(url)
    default = DEFAULT_PORTS.get(parts.scheme)
    if default is None or not parts.hostname:
        return [url]
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    if parts.port is None:
        other = urlunsplit(parts._replace(netloc=f"{prefix}{host}:{default}"))
    elif parts.port == default:
        other = urlunsplit(parts._replace(netloc=f"{prefix}{host}"))
    else:
        return [url]
    return [url, other]


def _body_hash_ok(url: str, body: bytes) -> bool | None:
    """None for a form request; for a JSON one, whether the URL's ``bodySHA256`` matches the body."""
    given = parse_qs(urlsplit(url).query).get("bodySHA256")
    if not given:
        return None
    expected = hashlib.sha256(body).hexdigest()
    return hmac.compare_digest(expected.encode(), given[-1].strip().lower().encode())


def matches(*, url: str, body: bytes, header: str, tokens: Sequence[str]) -> bool:
    """True when ``header`` signs this request under any of ``tokens``.

    Every token and URL form is compared in constant time, even after a match, so timing tells
    neither the signature nor which token (old or new, while rotating) matched.
    """
    if not header:
        return False
    body_hash = _body_hash_ok(url, body)
    if body_hash is False:
        return False
    params = [] if body_hash else form_params(body)
    given = header.strip().encode()
    matched = False
    for token in tokens:
        for variant in url_variants(url):
            matched |= hmac.compare_digest(sign(variant, params, token).encode(), given)
    return matched
