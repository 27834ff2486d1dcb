"""A campaign's first-response SLA set in a real browser (Debian's Chromium via Playwright).

A manager opens the campaign, finds the "First-response SLA" fieldset, sets five minutes on the
wall clock, re-assign, and picks a manager in the two-pane selector; the campaign is saved with
them. Screenshots at 1366 and 390 px go to test-artifacts/.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser.test_workspace_browser import ARTIFACTS, browser, login  # noqa: F401  (fixture)
from tests.support.factories import CampaignFactory, UserFactory
from whatsapp_leads.models import Campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_sets_a_campaigns_first_response_sla_in_its_own_fieldset(browser, live_server):  # noqa: F811
    UserFactory(username="boss", is_superuser=True)
    UserFactory(username="meera")
    campaign = CampaignFactory(name="Diwali loans")

    for width in (1366, 390):
        page = login(browser, live_server, "boss", width=width)
        page.goto(f"{live_server.url}/admin/whatsapp_leads/campaign/{campaign.pk}/change/")
        fieldset = page.locator("fieldset", has_text="First-response SLA")
        assert fieldset.is_visible()
        fieldset.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"campaign-sla-{width}.png"), full_page=True)
        fieldset.screenshot(path=str(ARTIFACTS / f"campaign-sla-fieldset-{width}.png"))
        page.context.close()

    page = login(browser, live_server, "boss")
    page.goto(f"{live_server.url}/admin/whatsapp_leads/campaign/{campaign.pk}/change/")
    page.fill("#id_first_response_sla", "00:05:00")
    page.select_option("#id_sla_clock", "wall")
    page.select_option("#id_sla_action", "reassign")
    page.select_option("#id_managers_from", label="meera")
    page.click(".selector-add")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")

    saved = Campaign.objects.get(pk=campaign.pk)
    assert (saved.first_response_sla, saved.sla_clock, saved.sla_action) == (
        timedelta(minutes=5),
        "wall",
        "reassign",
    )
    assert [u.username for u in saved.managers.all()] == ["meera"]
