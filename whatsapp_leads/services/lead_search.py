"""Finding a lead the way a person types: a phone number in any format, a name, or words they wrote.

- A phone number: ``+91 98765 43210``, ``098765 43210``, ``98765-43210`` and ``919876543210`` all
  find ``+919876543210``: the typed digits, without leading zeros (a trunk prefix), are looked for
  inside the stored number and WhatsApp id.
- Words: the name, e-mail, WhatsApp id or username contain the text, or a message of the lead
  holds every word. On PostgreSQL that is full-text search (``to_tsvector('simple', text)``, served
  by the GIN index ``wl_message_text_fts`` of migration 0007); on SQLite each word is a
  case-insensitive ``LIKE``, slower but the same answer for whole words.

The caller passes a queryset already narrowed by the row rule; searching can only narrow it more.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Func, Q, QuerySet, Value

from ..models import Lead, Message

PHONE_LIKE = re.compile(r"[0-9+()\-.\s]+")
MIN_PHONE_DIGITS = 4
MAX_WORDS = 8


class MatchesWords(Func):
    """``to_tsvector('simple', text) @@ plainto_tsquery('simple', words)``: the indexed expression."""

    arity = 2
    output_field = BooleanField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        text_sql, text_params = compiler.compile(self.source_expressions[0])
        words_sql, words_params = compiler.compile(self.source_expressions[1])
        sql = f"to_tsvector('simple'::regconfig, {text_sql}) @@ plainto_tsquery('simple'::regconfig, {words_sql})"
        return sql, [*text_params, *words_params]


def phone_digits(text: str) -> str:
    """The digits a person typed as a phone number, without a trunk prefix; empty when it is not one."""
    text = text.strip()
    if not PHONE_LIKE.fullmatch(text):
        return ""
    digits = re.sub(r"\D", "", text).lstrip("0")
    return digits if len(digits) >= MIN_PHONE_DIGITS else ""


def messages_with_words(text: str) -> QuerySet[Message]:
    words = text.split()[:MAX_WORDS]
    messages = Message.objects.all()
    if connection.vendor == "postgresql":
        return messages.filter(MatchesWords("text", Value(" ".join(words))))
    for word in words:
        messages = messages.filter(text__icontains=word)
    return messages


def search_leads(queryset: QuerySet[Lead], text: str) -> QuerySet[Lead]:
    """``queryset`` narrowed to the leads ``text`` finds (unchanged for an empty text)."""
    text = (text or "").replace("\x00", "").strip()
    if not text:
        return queryset
    digits = phone_digits(text)
    if digits:
        return queryset.filter(Q(phone__contains=digits) | Q(wa_id__contains=digits))
    # Only the messages of leads in ``queryset``: a rep's search reads their own threads, not all.
    writers = (
        messages_with_words(text)
        .filter(conversation__lead__in=queryset.order_by().values("pk"))
        .values("conversation__lead_id")
    )
    return queryset.filter(
        Q(name__icontains=text)
        | Q(email__icontains=text)
        | Q(username__icontains=text)
        | Q(user_id__icontains=text)
        | Q(pk__in=writers)
    )
