"""The sales workspace in a real browser: Debian's Chromium driven by Playwright, at 1366 and 390 px.

A rep logs in, sees only their leads in the inbox sorted by wait, opens the oldest, reads the
transcript, replies (the send task's body delivers it to the local fake Cloud API), sees the tick
move to delivered when the status webhook arrives, adds a note and a follow-up and marks it
Qualified; a new inbound message appears in the open inbox without a reload. A manager filters,
bulk re-assigns and exports CSV. Screenshots of each main screen go to test-artifacts/.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.support.delivery import deliver
from tests.support.factories import ConversationFactory, LeadFactory, MessageFactory
from tests.support.people import staff
from whatsapp_leads.models import Lead, LeadNote, Message
from whatsapp_leads.providers.meta.simulation import PHONE_NUMBER_ID, inbound, status_update
from whatsapp_leads.services.outbound import outbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
PASSWORD = "rep-password-123"
LEAD_PERMS = ("view_lead", "change_lead")


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still
    # plain synchronous code between its calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def login(browser, live_server, username: str, *, width: int = 1366, height: int = 800):
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return page


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def lead_waiting(owner, *, name: str, minutes: int, wa_id: str, text: str) -> Lead:
    at = timezone.now() - timedelta(minutes=minutes)
    lead = LeadFactory(owner=owner, name=name, wa_id=wa_id, phone=f"+{wa_id}", last_message_at=at,
                       awaiting_reply_since=at, last_activity_at=at, unread_count=1,
                       last_message_preview=text, last_message_direction="inbound")  # fmt: skip
    conversation = ConversationFactory(lead=lead, phone_number_id=PHONE_NUMBER_ID, last_inbound_at=at,
                                       last_message_at=at, started_at=at)  # fmt: skip
    MessageFactory(conversation=conversation, text=text, timestamp=at)
    return lead


@pytest.fixture
def world():
    rep = staff(*LEAD_PERMS, username="asha_rep", first_name="Asha", last_name="Verma")
    other = staff(*LEAD_PERMS, username="vikram_rep")
    manager = staff(*LEAD_PERMS, "view_all_leads", username="meera_manager")
    oldest = lead_waiting(
        rep, name="Oldest Ojas", minutes=90, wa_id="919800000001", text="Rate for 20 years?"
    )
    lead_waiting(rep, name="Newer Neha", minutes=5, wa_id="919800000002", text="Hello")
    lead_waiting(other, name="Vikram Customer", minutes=300, wa_id="919800000003", text="Not yours")
    return {"rep": rep, "other": other, "manager": manager, "oldest": oldest}


@pytest.mark.parametrize("width", [1366, 390])
def test_a_rep_works_the_oldest_lead_from_the_inbox(browser, live_server, world, cloud, broker, width):
    page = login(browser, live_server, "asha_rep", width=width)
    page.goto(f"{live_server.url}/admin/whatsapp_leads/inbox/")
    rows = page.locator("#wl-inbox-rows tr[data-lead-id]")
    assert rows.count() == 2
    assert rows.nth(0).inner_text().startswith("Oldest Ojas")
    assert "Vikram Customer" not in page.content()
    assert page.title().startswith("(2) ")
    assert no_sideways_scroll(page)
    shot(page, f"inbox-{width}")

    # A new inbound message appears without a reload (htmx polls every 4 s).
    deliver(inbound(wa_id="919800000002", name="Newer Neha", text="Any news on my loan?"))
    page.wait_for_selector("text=Any news on my loan?", timeout=8000)
    # The title follows once htmx has settled the swap (inbox.js listens for htmx:afterSettle,
    # 20 ms after the rows appear): wait for it rather than read it in between (failed once in CI).
    page.wait_for_function("document.title.startsWith('(3) ')", timeout=8000)
    assert page.title().startswith("(3) ")

    page.click("text=Oldest Ojas")
    page.wait_for_selector(".wl-transcript")
    assert "Rate for 20 years?" in page.inner_text(".wl-transcript")
    assert page.locator('a[href="tel:+919800000001"]').count() == 1
    assert no_sideways_scroll(page)
    shot(page, f"lead-{width}")

    page.fill("#wl-reply-text", "8.5% for 20 years. When may I call?")
    page.click("#wl-reply button[type=submit]")
    page.wait_for_selector("text=Queued for WhatsApp")
    message = Message.objects.get(direction="outbound")
    outbox.deliver(message.pk)  # the send task's body, as the worker runs it
    message.refresh_from_db()
    assert cloud.requests_to("/messages") and message.wamid.startswith("wamid.")
    deliver(status_update(message.wamid, "delivered", recipient="919800000001"))
    page.reload()
    bubble = page.locator(".wl-out").last
    assert "Delivered" in bubble.inner_text() and "✓✓" in bubble.inner_text()

    page.fill("textarea[name=note]", "Wants a call after 6 pm")
    page.click("button[form=wl-note-form]")
    page.wait_for_selector("text=Note added.")
    page.fill(
        "input[name=follow_up_at]", (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    )
    page.fill("input[name=follow_up_note]", "Call about EMI")
    page.click("button[form=wl-follow-form]:has-text('Set follow-up')")
    page.wait_for_selector("text=Follow-up set.")
    page.click("button.wl-quick-qualified")
    page.wait_for_selector("text=Marked Qualified.")
    assert no_sideways_scroll(page)
    shot(page, f"lead-worked-{width}")

    lead = Lead.objects.get(pk=world["oldest"].pk)
    assert lead.status == "qualified" and lead.follow_up_note == "Call about EMI"
    assert lead.awaiting_reply_since is None and lead.unread_count == 0
    assert LeadNote.objects.get().text == "Wants a call after 6 pm"


def test_a_manager_filters_bulk_reassigns_and_exports(browser, live_server, world):
    page = login(browser, live_server, "meera_manager")
    page.goto(f"{live_server.url}/admin/whatsapp_leads/lead/?owner__id__exact={world['rep'].pk}")
    assert page.locator("#result_list tbody tr").count() == 2
    shot(page, "manager-list-1366")
    # every column, the last message's time included, fits a laptop screen beside the filters
    assert no_sideways_scroll(page)
    assert page.evaluate(
        "(() => { const box = document.querySelector('#changelist .results');"
        " return box.scrollWidth <= box.clientWidth + 1; })()"
    ), "the lead list scrolls sideways at 1366 px"

    page.check("#action-toggle")
    page.select_option("select[name=action]", "reassign_leads")
    page.click("button[name=index]")
    page.select_option("select[name=owner]", str(world["other"].pk))
    page.click("input[value=Re-assign]")
    page.wait_for_selector("text=Re-assigned")
    assert Lead.objects.filter(owner=world["other"]).count() == 3

    page.goto(f"{live_server.url}/admin/whatsapp_leads/lead/?status__exact=new")
    with page.expect_download() as download:
        page.click("a.wl-export")
    body = Path(download.value.path()).read_text()
    assert body.splitlines()[0].startswith("id,name,phone")
    assert len(body.splitlines()) == 1 + 3
    shot(page, "manager-export-1366")
