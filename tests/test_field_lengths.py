"""Over-long values never lose a message: display fields are stored cut short, ids are refused by name.

Fault injection over real-shaped payloads: every string in every fixture under
tests/payloads/kinds/ is made longer than any column, one at a time, and the event processed.
PostgreSQL enforces ``max_length`` (``DataError: value too long``) where SQLite does not, so the
checks read the stored lengths too and hold on both. What must hold:

- a display value (name, caption, file name, headline, error title, ...) is stored cut to its
  column, ending in ``…``; the full value stays in the raw JSON (``payload``, ``referral``);
- an id that must be exact (message id, WhatsApp id, user id, media id, ad id, click id, our
  number's id, ...) is never cut: that update fails with a reason naming the field;
- nothing else fails, and across all cases every CharField the parser fills was reached
  (the list comes from walking the models' fields, minus the few no webhook fills).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import models

from tests.support.delivery import process
from tests.support.factories import ConversationFactory, LeadFactory, MessageFactory
from tests.support.kinds_support import KINDS_DIR, OUR_WAMID, USER_WA_ID
from whatsapp_leads.models import (
    AccountEvent,
    Ad,
    Campaign,
    Conversation,
    Lead,
    LeadHistory,
    Message,
    StatusUpdate,
    WebhookEvent,
)
from whatsapp_leads.providers.meta.simulation import PHONE_NUMBER_ID, inbound
from whatsapp_leads.services.fitting import MARK

pytestmark = pytest.mark.django_db

LONG = 3000  # longer than every CharField (the longest is Ad.source_url, 1000)
# The models a webhook writes, and their CharFields no webhook value fills (set by us or by choices).
WRITTEN = (Lead, Conversation, Message, StatusUpdate, AccountEvent, LeadHistory, Ad)
NOT_FROM_WEBHOOKS = {
    (Lead, "status"),  # our sales stage
    (Lead, "phone"),  # derived: E.164 of the WhatsApp id, at most 16 characters
    (LeadHistory, "previous"),  # a former value of a column already fitted to at most this length
    (Lead, "email"),  # only from a Flow form, validated there (an invalid answer is reported)
    (Lead, "city"),  # only from a Flow form mapped by FLOW_FIELD_MAP (tests/test_flows.py), or phonenumbers
    (Lead, "country"),  # ad loop: phonenumbers' region code of the number, two letters
    (Lead, "deal_currency"),  # ad loop: typed by staff
    (Lead, "city"),  # only from a Flow form mapped by FLOW_FIELD_MAP (tests/test_flows.py)
    (Lead, "last_message_direction"),  # inbound or outbound: ours
    (Lead, "follow_up_note"),  # typed by a rep
    (Conversation, "provider"),  # the PROVIDERS name of the parser, not a payload value
    (Message, "direction"),
    (Message, "origin"),  # who sent an outbound message: ours
    (Message, "send_state"),  # the outbox's state: ours
    (Message, "status"),
    (Message, "media_status"),
    (Message, "media_file"),  # our storage path
    (Message, "error_code"),  # copied from a StatusUpdate, which is checked
    (Message, "error_title"),
    (StatusUpdate, "status"),  # the parser maps it to one of ours or "unknown"
    (AccountEvent, "fingerprint"),  # our hash
    (LeadHistory, "kind"),
    (Ad, "name"),  # Ad name, status, account: the Marketing API's (test_campaign_sync_values...)
    (Ad, "status"),
    (Ad, "effective_status"),
    (Ad, "account_id"),
}
# Columns that hold ids: an over-long one is refused, never cut (a cut id names another thing).
EXACT = {
    (Lead, "wa_id"),
    (Lead, "user_id"),
    (Lead, "source_ad_id"),
    (Lead, "ctwa_clid"),
    (Conversation, "phone_number_id"),
    (Conversation, "waba_id"),
    (Message, "wamid"),
    (Message, "media_id"),
    (Message, "ctwa_clid"),
    (StatusUpdate, "wamid"),
    (Ad, "meta_id"),
}
# Payload keys that carry those ids (or a time, which the parser reads as a number).
ID_KEYS = {"id", "wa_id", "from", "user_id", "source_id", "ctwa_clid", "phone_number_id", "recipient_id",
           "recipient_user_id", "timestamp", "expiration_timestamp", "new_wa_id", "from_user_id",
           "new_user_id", "previous_user_id", "previous", "current"}  # fmt: skip
TOO_LONG = re.compile(r"\): (?:TooLong: )?(.+?) is longer than (\d+) characters")


def char_fields(model: type[models.Model]) -> Iterator[models.CharField]:
    for field in model._meta.get_fields():
        if isinstance(field, models.CharField) and field.max_length:
            yield field


def parser_filled() -> set[tuple[type[Any], str]]:
    """Every CharField of the written models, minus those no webhook value fills."""
    return {(m, f.name) for m in WRITTEN for f in char_fields(m)} - NOT_FROM_WEBHOOKS


def string_leaves(value: Any, path: tuple = ()) -> Iterator[tuple]:
    """Paths to every string and number; a string holding a JSON object (a Flow's answers) is
    walked into too, its inner path after an ``EMBEDDED`` step."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from string_leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from string_leaves(item, (*path, index))
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        yield path
        inner = _embedded(value)
        if inner is not None:
            yield from string_leaves(inner, (*path, EMBEDDED))


EMBEDDED = "<json>"


def _embedded(value: Any) -> dict | None:
    if not (isinstance(value, str) and value.startswith("{")):
        return None
    try:
        inner = json.loads(value)
    except ValueError:
        return None
    return inner if isinstance(inner, dict) else None


def _lengthen(value: Any, path: tuple) -> Any:
    if not path:
        return (f"{value}-" + "x" * LONG)[:LONG]
    if path[0] == EMBEDDED:
        return json.dumps(_lengthen(json.loads(value), path[1:]))
    copied = copy.copy(value)
    copied[path[0]] = _lengthen(value[path[0]], path[1:])
    return copied


def lengthened(payload: dict, path: tuple) -> dict:
    """A copy of ``payload`` whose leaf at ``path`` is ``LONG`` characters, starting as it did."""
    return _lengthen(copy.deepcopy(payload), path)


def seed() -> None:
    """The fixtures' sender as a known lead, with our message they reply to and get statuses for,
    so name changes are recorded and statuses applied."""
    lead = LeadFactory(wa_id=USER_WA_ID, phone=f"+{USER_WA_ID}", name="Old name", last_message_at=None)
    conversation = ConversationFactory(lead=lead, phone_number_id=PHONE_NUMBER_ID)
    MessageFactory(wamid=OUR_WAMID, conversation=conversation, direction="outbound", status="pending")


def fixtures() -> list[Path]:
    return sorted(p for p in KINDS_DIR.glob("*.json") if p.stem != "batched_mixed")  # its parts are fixtures


def wipe() -> None:
    for model in (Lead, StatusUpdate, AccountEvent, Ad, Campaign, WebhookEvent):
        model._base_manager.all().delete()


def overlong_rows() -> tuple[list[str], set[tuple[type[Any], str]]]:
    """(problems, fields holding a value cut with the mark) over every row a webhook wrote."""
    problems, cut = [], set()
    for model in WRITTEN:
        fields = list(char_fields(model))
        for row in model._base_manager.all():
            for field in fields:
                value = getattr(row, field.attname) or ""
                value = value.name if hasattr(value, "name") else value
                if field.max_length is not None and len(value) > field.max_length:
                    problems.append(f"{model.__name__}.{field.name} holds {len(value)} > {field.max_length}")
                elif len(value) == field.max_length and value.endswith(MARK):
                    cut.add((model, field.name))
    return problems, cut


@pytest.mark.volume
def test_every_overlong_string_in_every_payload_is_stored_cut_or_refused_by_name():
    problems: list[str] = []
    reached: set[tuple[type[models.Model], str]] = set()
    refused: set[str] = set()
    cases = 0
    for fixture in fixtures():
        payload = json.loads(fixture.read_text(encoding="utf-8"))
        for path in string_leaves(payload):
            cases += 1
            wipe()
            seed()
            event = process(lengthened(payload, path))
            where = f"{fixture.stem} {'.'.join(map(str, path))}"
            if event.status != WebhookEvent.Status.PROCESSED and path == ("object",):
                continue  # no longer a WhatsApp webhook: refused whole, as any foreign body is
            if event.status != WebhookEvent.Status.PROCESSED:
                named = TOO_LONG.search(event.error)
                if path[-1] in ID_KEYS and (named or "timestamp" in str(path[-1])):
                    if named:
                        refused.add(named.group(1))
                    continue
                problems.append(f"{where}: failed: {event.error.splitlines()[0][:200]}")
                continue
            rows_problems, cut = overlong_rows()
            problems += [f"{where}: {p}" for p in rows_problems]
            reached |= cut
            if "messages" in path and not Message.objects.exists():
                problems.append(f"{where}: processed but the message is not stored")
    assert cases > 400
    assert problems == [], f"{len(problems)} of {cases} cases:\n" + "\n".join(problems)
    missing = parser_filled() - EXACT - reached
    assert not missing, sorted(f"{m.__name__}.{f}" for m, f in missing)
    assert {"message id", "WhatsApp id", "media id"} <= refused, refused


def test_an_overlong_message_id_fails_its_update_by_name_and_its_neighbours_still_apply():
    good = inbound(wa_id="919800000001", name="Good", text="kept")
    bad = inbound(wa_id="919800000002", name="Bad", text="refused", message_id="wamid." + "A" * 300)
    good["entry"][0]["changes"].append(bad["entry"][0]["changes"][0])

    event = process(good)

    assert event.status == WebhookEvent.Status.FAILED
    assert "message id is longer than 255 characters" in event.error
    assert Message.objects.get().text == "kept"
    assert list(Lead.objects.values_list("name", flat=True)) == ["Good"]


def test_an_overlong_profile_name_is_cut_with_a_mark_and_kept_whole_in_the_payload():
    name = "Asha " * 100
    event = process(inbound(wa_id="919800000003", name=name, text="hello"))

    assert event.status == WebhookEvent.Status.PROCESSED, event.error
    lead = Lead.objects.get()
    assert len(lead.name) == 255 and lead.name.endswith(MARK)
    assert name.startswith(lead.name[:-1])
    body = json.loads(bytes(event.body))
    assert body["entry"][0]["changes"][0]["value"]["contacts"][0]["profile"]["name"] == name


def test_overlong_names_from_the_marketing_api_are_cut_with_a_mark_on_ad_ad_set_and_campaign():
    from whatsapp_leads.graph.marketing import AdInfo, AdSetInfo, CampaignInfo
    from whatsapp_leads.models import AdSet
    from whatsapp_leads.services.campaign_sync import apply_ad_info

    long = "Diwali home-loan push " * 40
    campaign = CampaignInfo(meta_id="120200000000000001", name=long, objective="O" * 100, status="S" * 50)
    adset = AdSetInfo(meta_id="120200000000000002", name=long, destination_type="WHATSAPP", campaign=campaign)
    ad = Ad.objects.create(meta_id="120200000000000003")

    apply_ad_info(
        AdInfo(meta_id=ad.meta_id, name=long, status="ACTIVE", adset=adset, campaign=campaign), ad=ad
    )

    for row in (Ad.objects.get(), AdSet.objects.get(), Campaign.objects.get()):
        assert len(row.name) == 255 and row.name.endswith(MARK), type(row).__name__
    assert Campaign.objects.get().objective.endswith(MARK)
