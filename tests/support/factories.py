"""factory-boy factories for the app's models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils import timezone

from whatsapp_leads import models

T = TypeVar("T")


class ModelFactory(factory.django.DjangoModelFactory[T]):
    """A factory whose call is typed as the model it builds (factory-boy types only ``create()``)."""

    class Meta:
        abstract = True

    if TYPE_CHECKING:

        def __new__(cls, *args: Any, **kwargs: Any) -> T: ...  # type: ignore[misc]  # returns the model


class UserFactory(ModelFactory[User]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"rep{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True
    is_active = True
    password = factory.django.Password("rep-password-123")


class CampaignFactory(ModelFactory[models.Campaign]):
    class Meta:
        model = models.Campaign

    meta_id = factory.Sequence(lambda n: f"1202263058548{n:05d}")
    name = factory.Sequence(lambda n: f"Home loans {n}")


class CampaignMemberFactory(ModelFactory[models.CampaignMember]):
    class Meta:
        model = models.CampaignMember

    campaign = factory.SubFactory(CampaignFactory)
    user = factory.SubFactory(UserFactory)
    is_active = True


class AdFactory(ModelFactory[models.Ad]):
    class Meta:
        model = models.Ad

    meta_id = factory.Sequence(lambda n: f"1202263058547{n:05d}")
    name = factory.Sequence(lambda n: f"Ad {n}")
    campaign = factory.SubFactory(CampaignFactory)


class LeadFactory(ModelFactory[models.Lead]):
    class Meta:
        model = models.Lead

    wa_id = factory.Sequence(lambda n: f"9198765{n:05d}")
    phone = factory.LazyAttribute(lambda o: f"+{o.wa_id}")
    name = factory.Faker("name")
    first_message = "Hi, I'm interested"
    first_message_at = factory.LazyFunction(timezone.now)
    last_message_at = factory.LazyFunction(timezone.now)


class ConversationFactory(ModelFactory[models.Conversation]):
    class Meta:
        model = models.Conversation

    lead = factory.SubFactory(LeadFactory)
    phone_number_id = "106540352242922"
    display_phone_number = "15550783881"


class MessageFactory(ModelFactory[models.Message]):
    class Meta:
        model = models.Message

    wamid = factory.Sequence(lambda n: f"wamid.factory{n:010d}")
    conversation = factory.SubFactory(ConversationFactory)
    direction = models.Message.Direction.INBOUND
    type = "text"
    text = "Hello"
    timestamp = factory.LazyFunction(timezone.now)


class WebhookEventFactory(ModelFactory[models.WebhookEvent]):
    class Meta:
        model = models.WebhookEvent

    body = b'{"object":"whatsapp_business_account","entry":[]}'
    headers = factory.LazyFunction(dict)
