"""``rows.build`` makes the instance ``Model(**values)`` makes, and calls it when that could differ."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import models
from django.db.models.signals import post_init
from django.utils import timezone

from whatsapp_leads.models import Conversation, Lead, LeadAssignment, Message
from whatsapp_leads.services import rows

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def state(obj: models.Model) -> dict[str, Any]:
    now = timezone.now()
    values = {
        k: "now" if isinstance(v, datetime) and abs(v - now) < timedelta(seconds=60) else v
        for k, v in obj.__dict__.items()
        if k != "_state"
    }  # a ``timezone.now`` default is asked for each instance, a few microseconds apart
    return {
        "values": values,
        "keys": list(values),
        "adding": obj._state.adding,
        "db": obj._state.db,
        "cache": dict(obj._state.fields_cache),
    }


def cases() -> list[tuple[type[models.Model], dict[str, Any]]]:
    lead = Lead(pk=7, wa_id="919800000001", name="Asha")
    thread = Conversation(pk=9, lead=lead, phone_number_id="111")
    return [
        (Lead, {"wa_id": "919800000001", "user_id": None, "phone": "+919800000001", "first_message_at": AT}),
        (Lead, {}),
        (Conversation, {"lead": lead, "phone_number_id": "111", "started_at": AT}),
        (Conversation, {"lead": Lead(), "phone_number_id": "111"}),  # a lead not saved yet
        (
            Message,
            {"wamid": "wamid.1", "conversation": thread, "text": "hi", "timestamp": AT, "referral": {}},
        ),
        (Message, {"conversation_id": 9, "payload": {"a": [1]}, "webhook_event": None}),
        (LeadAssignment, {"lead": lead, "reason": "round robin"}),
    ]


@pytest.mark.parametrize("n", range(len(cases())))
def test_build_makes_what_the_constructor_makes(n: int) -> None:
    model, values = cases()[n]
    built, made = rows.build(model, **values), model(**values)
    assert type(built) is model
    assert state(built) == state(made)


def test_defaults_made_per_instance_are_not_shared() -> None:
    one, two = rows.build(Message, wamid="a"), rows.build(Message, wamid="b")
    assert one.details == {} and one.details is not two.details
    one.details["x"] = 1
    assert two.details == {}


def test_an_unknown_name_is_refused_as_the_constructor_refuses_it() -> None:
    with pytest.raises(TypeError, match="unexpected keyword"):
        rows.build(Message, no_such_field=1)


def test_a_post_init_receiver_gets_the_constructor() -> None:
    seen: list[models.Model] = []

    def receiver(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
        seen.append(instance)

    post_init.connect(receiver, sender=Message)
    try:
        built = rows.build(Message, wamid="a")
    finally:
        post_init.disconnect(receiver, sender=Message)
    assert seen == [built]


def loaded_state(obj: models.Model) -> dict[str, Any]:
    values = {k: v for k, v in obj.__dict__.items() if k != "_state"}
    return {"values": values, "keys": list(values), "adding": obj._state.adding, "db": obj._state.db}


@pytest.mark.django_db
def test_loaded_makes_what_iterating_the_queryset_makes() -> None:
    lead = Lead.objects.create(
        wa_id="919800000001",
        phone="+919800000001",
        name="Asha",
        location={"source": "phone"},
        first_message_at=AT,
    )
    Lead.objects.create(wa_id="919800000002")
    Conversation.objects.create(lead=lead, phone_number_id="111", started_at=AT)
    for queryset in (
        Lead.objects.order_by("pk"),
        Lead.objects.filter(wa_id="919800000001"),
        Conversation.objects.filter(lead__in=[lead]),
    ):
        fast, slow = rows.loaded(queryset), list(queryset)
        assert [type(o) for o in fast] == [type(o) for o in slow]
        assert [loaded_state(o) for o in fast] == [loaded_state(o) for o in slow]
    assert rows.loaded(Lead.objects.filter(pk=lead.pk))[0].location == {"source": "phone"}


@pytest.mark.django_db
def test_loaded_iterates_what_it_cannot_reproduce() -> None:
    lead = Lead.objects.create(wa_id="919800000001", name="Asha")
    Conversation.objects.create(lead=lead, phone_number_id="111")
    (only,) = rows.loaded(Lead.objects.only("name"))
    assert only.get_deferred_fields()  # a deferred load, as the queryset makes it
    (thread,) = rows.loaded(Conversation.objects.select_related("lead"))
    assert Conversation.lead.is_cached(thread)
    seen: list[models.Model] = []

    def receiver(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
        seen.append(instance)

    post_init.connect(receiver, sender=Lead)
    try:
        (heard,) = rows.loaded(Lead.objects.all())
    finally:
        post_init.disconnect(receiver, sender=Lead)
    assert seen == [heard]
