"""Response times in a real browser (Debian's Chromium, Playwright), at 1366 and 390 px: the inbox's
waits coloured against the SLA with words beside the colour, the campaign numbers page's charts
(Chart.js, vendored) drawn on non-empty canvases, and a rep's own numbers page. Screenshots go to
test-artifacts/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.test_workspace_browser import browser, login, no_sideways_scroll, shot  # noqa: F401
from tests.support.factories import CampaignFactory, LeadFactory
from tests.support.people import staff
from whatsapp_leads.models import Lead, SlaBreach

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LEAD_PERMS = ("view_lead", "change_lead")
SLA = timedelta(minutes=10)

# Non-transparent pixels drawn on a canvas: 0 means Chart.js drew nothing.
PAINTED = """(id) => { const c = document.getElementById(id); if (!c || !c.width || !c.height) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; } return n; }"""


def answered(campaign, owner, *, minutes: float, days_ago: int = 0) -> Lead:
    at = timezone.now() - timedelta(days=days_ago, minutes=minutes + 5)
    seconds = int(minutes * 60)
    return LeadFactory(campaign=campaign, owner=owner, first_inbound_at=at, first_reply_at=at + timedelta(seconds=seconds),
                       first_response_seconds=seconds, first_response_business_seconds=seconds // 2,
                       response_count=1, response_seconds_total=seconds, status="won")  # fmt: skip


def waiting(
    campaign, owner, *, name: str, minutes: float, due_in: float | None, breached: bool = False
) -> Lead:
    now = timezone.now()
    at = now - timedelta(minutes=minutes)
    return LeadFactory(campaign=campaign, owner=owner, name=name, first_inbound_at=at, awaiting_reply_since=at,
                       last_activity_at=at, last_message_at=at, last_message_preview="Is the offer on?",
                       last_message_direction="inbound", sla_started_at=at,
                       sla_due_at=None if due_in is None else now + timedelta(minutes=due_in),
                       sla_breached_at=now - timedelta(minutes=1) if breached else None)  # fmt: skip


@pytest.fixture
def world():
    rep = staff(*LEAD_PERMS, username="asha_rep", first_name="Asha", last_name="Verma")
    other = staff(*LEAD_PERMS, username="vikram_rep", first_name="Vikram", last_name="Shah")
    viewer = staff(*LEAD_PERMS, "view_all_leads", "view_campaign", username="meera_manager")
    campaign = CampaignFactory(name="Diwali home loans", first_response_sla=SLA, sla_clock="wall")
    for n, minutes in enumerate((2, 3, 4, 6, 9, 14, 25, 40)):
        answered(campaign, rep if n % 2 else other, minutes=minutes, days_ago=n % 5)
    waiting(campaign, rep, name="Fresh Farah", minutes=1, due_in=9)
    waiting(campaign, rep, name="Close Chirag", minutes=8, due_in=2)
    late = waiting(campaign, rep, name="Late Lata", minutes=25, due_in=None, breached=True)
    vikram_late = waiting(campaign, other, name="Vikram Customer", minutes=30, due_in=None, breached=True)
    for lead, owner, days in ((late, rep, 0), (vikram_late, other, 0), (vikram_late, other, 2)):
        at = timezone.now() - timedelta(days=days, minutes=15)
        SlaBreach.objects.create(lead=lead, campaign=campaign, owner=owner, sla=SLA, clock="wall", started_at=at - SLA,
                                 due_at=at, action="notified", breached_at=at, level=1)  # fmt: skip
    return {"rep": rep, "viewer": viewer, "campaign": campaign}


@pytest.mark.parametrize("width", [1366, 390])
def test_inbox_waits_are_coloured_against_the_sla_with_words(browser, live_server, world, width):  # noqa: F811
    page = login(browser, live_server, "asha_rep", width=width)
    page.goto(f"{live_server.url}/admin/whatsapp_leads/inbox/")
    rows = page.locator("#wl-inbox-rows tr[data-lead-id]")
    assert rows.count() == 3
    words = {}
    colours = {}
    for name, css in (("Late Lata", "breached"), ("Close Chirag", "near"), ("Fresh Farah", "within")):
        row = page.locator("#wl-inbox-rows tr", has_text=name)
        badge = row.locator(f".wl-sla-{css} .wl-sla-word")
        assert badge.is_visible()
        words[css] = badge.inner_text()
        colours[css] = badge.evaluate("e => getComputedStyle(e).backgroundColor")
    assert (
        "SLA breached" in words["breached"]
        and "Near SLA" in words["near"]
        and "Within SLA" in words["within"]
    )
    assert len(set(colours.values())) == 3  # three colours, and the words besides
    shot(page, f"sla-inbox-{width}")
    assert no_sideways_scroll(page)
    page.click("a.wl-my-numbers-link")
    page.wait_for_selector(".wl-my-numbers")
    page.click("text=Late Lata")
    card = page.wait_for_selector("#wl-engagement")
    assert "SLA breached" in card.inner_text() and "missed by" in card.inner_text()
    shot(page, f"lead-engagement-{width}")
    assert no_sideways_scroll(page)


@pytest.mark.parametrize("width", [1366, 390])
def test_campaign_numbers_draw_response_charts(browser, live_server, world, width):  # noqa: F811
    page = login(browser, live_server, "meera_manager", width=width)
    page.goto(f"{live_server.url}/admin/whatsapp_leads/campaign/{world['campaign'].pk}/numbers/")
    page.wait_for_function(
        "() => window.Chart && Chart.getChart('wl-chart-reps') && Chart.getChart('wl-chart-breaches')"
    )
    assert page.evaluate(PAINTED, "wl-chart-reps") > 500
    assert page.evaluate(PAINTED, "wl-chart-breaches") > 500
    assert "Asha Verma" in page.inner_text(".wl-response-per-rep")
    shot(page, f"numbers-response-{width}")
    assert no_sideways_scroll(page)


@pytest.mark.parametrize("width", [1366, 390])
def test_a_rep_sees_their_own_numbers_page(browser, live_server, world, width):  # noqa: F811
    page = login(browser, live_server, "asha_rep", width=width)
    page.goto(f"{live_server.url}/admin/whatsapp_leads/inbox/numbers/?rep=999")
    page.wait_for_function(
        "() => window.Chart && Chart.getChart('wl-chart-daily') && Chart.getChart('wl-chart-breaches')"
    )
    assert page.evaluate(PAINTED, "wl-chart-daily") > 500
    assert page.evaluate(PAINTED, "wl-chart-breaches") > 500
    assert page.inner_text(".wl-breach-count") == "1"  # Vikram's two are his
    assert page.inner_text(".wl-unanswered-count") == "3"
    assert "Vikram" not in page.content()
    shot(page, f"my-numbers-{width}")
    assert no_sideways_scroll(page)


def test_a_manager_sees_waits_in_the_lead_list_and_picks_a_rep_on_the_numbers_page(
    browser,  # noqa: F811
    live_server,
    world,
):
    page = login(browser, live_server, "meera_manager")
    page.goto(f"{live_server.url}/admin/whatsapp_leads/lead/")
    assert page.locator("#result_list .wl-sla-breached .wl-sla-word").first.inner_text().endswith("Breached")
    shot(page, "sla-lead-list-1366")
    assert page.evaluate(
        "(() => { const box = document.querySelector('#changelist .results');"
        " return box.scrollWidth <= box.clientWidth + 1; })()"
    ), "the lead list scrolls sideways at 1366 px"
    page.goto(f"{live_server.url}/admin/whatsapp_leads/inbox/numbers/")
    page.select_option("#wl-rep", str(world["rep"].pk))
    page.click(".wl-range input[type=submit]")
    page.wait_for_selector("text=Numbers of Asha Verma")
    assert page.inner_text(".wl-breach-count") == "1"
