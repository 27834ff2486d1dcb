"""A lead's files for staff: the only way out of the private media storage, and a fresh start.

Who may see a file is the lead's own rule (``LeadAdmin.get_queryset`` and ``has_view_permission``:
a rep their leads, managers and superusers all); anything else is a 404, so a guessed URL does
not even tell whether the lead exists. How the file leaves is decided here: with the type we
stored, never sniffed, kept out of shared caches, shown inline only when it is a raster image a
browser cannot run. Everything else (PDFs, SVGs, HTML a customer called a "document") downloads
as an attachment under its original name, so a file sent by a stranger never renders as a page
on the admin's origin.
"""

from __future__ import annotations

import os
import re
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest

from ..models import Lead, Message
from ..services.media import retry_failed

# Raster images only: an SVG is an image that can carry script.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
FALLBACK_TYPE = "application/octet-stream"
MIME_RE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
# Browsers may keep a copy for the viewer (the transcript shows images again and again), but no
# proxy or CDN may, and the copy is short-lived so a lead taken from a rep stops showing.
CACHE_CONTROL = "private, max-age=600"


def media_type(message: Message) -> str:
    """The stored MIME type without parameters, or octet-stream when it is not a valid one."""
    mime = message.media_mime_type.split(";")[0].strip().lower()
    return mime if MIME_RE.match(mime) else FALLBACK_TYPE


def shows_inline(message: Message) -> bool:
    """Whether the browser may display the file itself (``inline``) rather than download it."""
    return media_type(message) in INLINE_TYPES


def download_name(message: Message) -> str:
    """The name the user sent (documents), else the stored one; control characters removed."""
    name = message.media_filename or os.path.basename(message.media_file.name or "")
    return CONTROL_RE.sub("", name).strip() or f"{message.type or 'media'}-{message.pk}"


def media_response(message: Message) -> FileResponse:
    """The stored file of ``message``; 404 when it was never downloaded or is missing from storage."""
    name = message.media_file.name
    if not name:
        raise Http404("No file is stored for this message.")
    try:
        handle = message.media_file.storage.open(name, "rb")
    except OSError:  # FileNotFoundError included
        raise Http404("The file is missing from storage.") from None
    response = FileResponse(
        handle,
        content_type=media_type(message),
        as_attachment=not shows_inline(message),
        filename=download_name(message),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = CACHE_CONTROL
    return response


def lead_media_view(
    model_admin: admin.ModelAdmin, request: HttpRequest, lead_pk: int, message_pk: int
) -> FileResponse:
    """The file of message ``message_pk`` of lead ``lead_pk``, for a user who may view that lead."""
    lead = model_admin.get_queryset(request).filter(pk=lead_pk).first()
    if lead is None or not model_admin.has_view_permission(request, lead):
        raise Http404("No such lead.")
    message = Message.objects.filter(pk=message_pk, conversation__lead=lead).first()
    if message is None:
        raise Http404("No such message on this lead.")
    return media_response(message)


def redownload_failed_media(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Lead]
) -> Any:
    """The "Re-download failed media" action: every failed file of the selected leads, queued again."""
    count = retry_failed(Message.objects.filter(conversation__lead__in=queryset.values("pk")))
    if count:
        model_admin.message_user(request, f"{count} file(s) will be downloaded again.", messages.SUCCESS)
    else:
        model_admin.message_user(request, "The selected leads have no failed downloads.", messages.WARNING)
