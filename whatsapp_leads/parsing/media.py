"""The Graph API's answer to ``GET /{version}/{media_id}``: where the file is and what it is.

Meta answers ``{"url", "mime_type", "sha256", "file_size", "id", "messaging_product"}``; the URL
is short-lived (minutes), so it is fetched again on every download attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaLocation:
    url: str
    mime_type: str = ""
    sha256: str = ""
    size: int | None = None


def parse_media_location(body: Any) -> MediaLocation:
    """Raises ``ValueError`` when the answer has no download URL."""
    body = body if isinstance(body, dict) else {}
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise ValueError("the Graph API's media answer has no download URL")
    size = body.get("file_size")
    try:
        size = int(size) if size is not None and not isinstance(size, bool) else None
    except (TypeError, ValueError):
        size = None
    mime, sha = body.get("mime_type"), body.get("sha256")
    return MediaLocation(
        url=url,
        mime_type=mime if isinstance(mime, str) else "",
        sha256=sha if isinstance(sha, str) else "",
        size=size,
    )
