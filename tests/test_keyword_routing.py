"""Keyword routing: a chat without an ad joins the campaign its first message asks for."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.support.delivery import deliver
from tests.support.factories import AdFactory, CampaignFactory, CampaignMemberFactory, UserFactory
from tests.support.world import T0
from whatsapp_leads.models import Campaign, Lead
from whatsapp_leads.providers.meta.simulation import inbound
from whatsapp_leads.services.routing.keywords import first_match


def chat(text: str, *, wa_id: str = "919876543210", **kwargs) -> Lead:
    deliver(inbound(wa_id=wa_id, text=text, **kwargs))
    return Lead.objects.get(wa_id=wa_id)


@pytest.fixture
def loans():
    campaign = CampaignFactory(name="Loans", keywords="loan, emi\nhome loan")
    CampaignMemberFactory(campaign=campaign, user=UserFactory(username="loan-rep"))
    return campaign


# === Through the webhook ========================================================================


@pytest.mark.django_db
def test_organic_chat_asking_for_a_loan_goes_to_the_loans_team(loans):
    lead = chat("Hi, I need a loan for my shop")

    assert lead.campaign == loans
    assert lead.owner.username == "loan-rep"
    assert lead.assignments.get().reason == (
        "First message matched 'loan' of campaign 'Loans'. Round robin in campaign 'Loans'"
    )


@pytest.mark.django_db
def test_chat_matching_no_campaign_goes_to_the_default_owner(loans, settings):
    desk = UserFactory(username="sales-desk")
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "DEFAULT_OWNER": "sales-desk"}

    lead = chat("What are your opening hours?")

    assert (lead.campaign, lead.owner) == (None, desk)


@pytest.mark.django_db
def test_highest_priority_campaign_wins_when_several_match(loans):
    gold = CampaignFactory(name="Gold loans", keywords="gold", keyword_priority=10)
    CampaignMemberFactory(campaign=gold)

    assert chat("I want a gold loan").campaign == gold


@pytest.mark.django_db
def test_equal_priority_goes_to_the_oldest_campaign(loans):
    CampaignFactory(name="Personal loans", keywords="loan")

    assert chat("loan please").campaign == loans


@pytest.mark.django_db
def test_inactive_campaign_claims_no_chats(loans):
    loans.is_active = False
    loans.save()

    assert chat("I need a loan").campaign is None


@pytest.mark.django_db
def test_lead_from_an_ad_is_never_claimed_by_keywords(loans):
    """Its campaign is the ad's, filled in by the ad lookup later; keywords must not take it first."""
    lead = chat("I need a loan", ad_id="120226305854899999")

    assert lead.campaign is None
    assert lead.source_ad_id == "120226305854899999"


@pytest.mark.django_db
def test_ad_campaign_wins_over_keywords(loans):
    cars = CampaignFactory(name="Cars")
    AdFactory(meta_id="120226305854810726", campaign=cars)

    assert chat("car loan?", ad_id="120226305854810726").campaign == cars


@pytest.mark.django_db
def test_only_the_first_message_is_read(loans):
    chat("Hello", timestamp=T0)
    lead = chat("Actually I need a loan", timestamp=T0 + 60)

    assert lead.campaign is None
    assert lead.assignments.count() == 1


@pytest.mark.django_db
def test_a_broken_pattern_saved_behind_the_validators_back_is_skipped_not_fatal(loans):
    Campaign.objects.filter(pk=loans.pk).update(keywords="/a(b/, loan")

    assert chat("loan").campaign == loans


# === How entries match ==========================================================================


@pytest.mark.parametrize(
    ("text", "keywords", "matched"),
    [
        ("Need a LOAN?", "loan", "loan"),
        ("Loan", "loan", "loan"),
        ("I am a loaner", "loan", None),
        ("sloan", "loan", None),
        ("home  loan please", "home loan", "home loan"),
        ("home\nloan", "home loan", "home loan"),
        ("hometown loan", "home loan", None),
        ("need 5 lakh", r"/\d+\s*lakh/", r"/\d+\s*lakh/"),
        ("need 50 lakh", r"/\d{2,3}\s*lakh/, emi", r"/\d{2,3}\s*lakh/"),  # the comma is inside the regex
        ("what EMI?", r"/\d{2,3}\s*lakh/, emi", "emi"),
        ("a/b", r"/a\/b/", r"/a\/b/"),
        ("मुझे लोन चाहिए", "लोन", "लोन"),
        ("लोनी", "लोन", None),  # a vowel sign continues the word
        ("c++ course", "c++", "c++"),  # regex characters in a word are literal
        ("anything", "", None),
    ],
)
def test_keyword_entries_match_whole_words_in_any_case_or_as_regex(text, keywords, matched):
    assert first_match(text, keywords) == matched


@pytest.mark.parametrize(
    ("keywords", "named"),
    [("loan, /a(b/", "/a(b/"), ("/abc", "/abc"), ("loan\n/x/y", "/x/y")],
)
@pytest.mark.django_db
def test_broken_regex_entries_are_refused_when_the_campaign_is_saved(keywords, named):
    campaign = CampaignFactory.build(keywords=keywords)

    with pytest.raises(ValidationError) as error:
        campaign.full_clean()

    (message,) = error.value.message_dict["keywords"]
    assert message.startswith(named)


@pytest.mark.django_db
def test_valid_keywords_pass_validation():
    CampaignFactory.build(keywords="loan, emi\n/\\d+ lakh/").full_clean()
