"""factory-boy factories for the app's models."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from whatsapp_leads import models


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"rep{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True
    is_active = True
    password = factory.django.Password("rep-password-123")


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Campaign

    meta_id = factory.Sequence(lambda n: f"1202263058548{n:05d}")
    name = factory.Sequence(lambda n: f"Home loans {n}")


class CampaignMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.CampaignMember

    campaign = factory.SubFactory(CampaignFactory)
    user = factory.SubFactory(UserFactory)
    is_active = True


class AdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Ad

    meta_id = factory.Sequence(lambda n: f"1202263058547{n:05d}")
    name = factory.Sequence(lambda n: f"Ad {n}")
    campaign = factory.SubFactory(CampaignFactory)


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Lead

    wa_id = factory.Sequence(lambda n: f"9198765{n:05d}")
    phone = factory.LazyAttribute(lambda o: f"+{o.wa_id}")
    name = factory.Faker("name")
    first_message = "Hi, I'm interested"
    first_message_at = factory.LazyFunction(timezone.now)
    last_message_at = factory.LazyFunction(timezone.now)


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Conversation

    lead = factory.SubFactory(LeadFactory)
    phone_number_id = "106540352242922"
    display_phone_number = "15550783881"


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Message

    wamid = factory.Sequence(lambda n: f"wamid.factory{n:010d}")
    conversation = factory.SubFactory(ConversationFactory)
    direction = models.Message.Direction.INBOUND
    type = "text"
    text = "Hello"
    timestamp = factory.LazyFunction(timezone.now)


class WebhookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.WebhookEvent

    body = b'{"object":"whatsapp_business_account","entry":[]}'
    headers = factory.LazyFunction(dict)
