"""The reply box at the end of a lead's transcript, and the two admin views it posts to.

Inside the 24-hour window the rep types a **Reply** and presses **Send**; outside it the box says
so and offers the **Template** picker instead (approved templates only, each with its blanks and a
live preview). Both go through ``outbox.queue_send``, the API's path, so the rules and the record
are the same; a refusal comes back as a message on the page, in the rep's words. A message whose
delivery is unknown offers **Send again**, a person's decision.

The form is posted from outside the change form (its fields use HTML's ``form=`` attribute), so
sending never submits, or is submitted by, the lead's own fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse

from ..models import Lead, Message, MessageTemplate
from ..services.outbound import outbox, templates, window
from ..services.outbound.refusal import Refusal

FORM_ID = "wl-reply-form"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyBox:
    action: str
    window_open: bool
    window_words: str
    templates: list[MessageTemplate]
    opted_out: bool


def reply_box(lead: Lead, *, site: str, may_send: bool) -> ReplyBox | None:
    if not may_send:
        return None
    conversation = outbox.conversation_for(lead)
    state = window.window_of(conversation)
    return ReplyBox(
        action=reverse(f"{site}:whatsapp_leads_lead_send", args=[lead.pk]),
        window_open=state.open,
        window_words=state.words(),
        templates=list(templates.approved()),
        opted_out=lead.marketing_opt_out,
    )


def _lead_for(model_admin: Any, request: HttpRequest, lead_pk: int) -> Lead:
    lead = model_admin.get_queryset(request).filter(pk=lead_pk).first()
    if lead is None or not model_admin.has_change_permission(request, lead):
        raise Http404("No such lead.")
    return lead


def _back(model_admin: Any, lead: Lead) -> HttpResponseRedirect:
    opts = model_admin.opts
    url = reverse(f"{model_admin.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[lead.pk])
    return HttpResponseRedirect(f"{url}#wl-reply")


def _report(request: HttpRequest, result: Message | Refusal) -> None:
    if isinstance(result, Refusal):
        messages.error(request, result.words)
    else:
        messages.success(request, "Queued for WhatsApp: it will show ticks as it is delivered.")


def send_view(model_admin: Any, request: HttpRequest, lead_pk: int) -> HttpResponseRedirect:
    if request.method != "POST":
        raise Http404("Send with the reply box.")
    lead = _lead_for(model_admin, request, lead_pk)
    text = request.POST.get("reply", "")
    template_pk = request.POST.get("template", "")
    try:
        if template_pk:
            template = get_object_or_404(templates.approved(), pk=template_pk)
            values = [line.strip() for line in request.POST.get("values", "").splitlines() if line.strip()]
            content: dict[str, Any] = {
                "name": template.name,
                "language": template.language,
                "parameters": values,
            }
            result = outbox.queue_send(lead, kind="template", content=content, by=request.user, origin="rep")
        elif text.strip():
            result = outbox.queue_send(
                lead, kind="text", content={"body": text}, by=request.user, origin="rep"
            )
        else:
            messages.error(request, "Type a reply (or choose a template) before pressing Send.")
            return _back(model_admin, lead)
    except ValueError as exc:
        messages.error(request, str(exc))
        return _back(model_admin, lead)
    _report(request, result)
    return _back(model_admin, lead)


def resend_view(
    model_admin: Any, request: HttpRequest, lead_pk: int, message_pk: int
) -> HttpResponseRedirect:
    if request.method != "POST":
        raise Http404("Resend with the button.")
    lead = _lead_for(model_admin, request, lead_pk)
    message = get_object_or_404(Message, pk=message_pk, conversation__lead=lead)
    try:
        result = outbox.resend(message, by=request.user)
    except ValueError as exc:
        messages.error(request, str(exc))
        return _back(model_admin, lead)
    _report(request, result)
    return _back(model_admin, lead)
