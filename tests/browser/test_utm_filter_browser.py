"""The lead list's UTM filters and the campaign's provider fields in a real browser (Chromium, Playwright).

A rep sees, under *By UTM source*, only the values of their own leads, clicks one and gets only
the leads of that source; at 390 px the page still reads. A manager sets a campaign's provider
and business number, and a wrong provider is refused in words on the page. Screenshots go to
test-artifacts/.
"""

from __future__ import annotations

import pytest

from tests.browser.test_workspace_browser import browser, login, shot  # noqa: F401  (fixture)
from tests.support.factories import CampaignFactory, LeadFactory
from tests.support.people import staff
from whatsapp_leads.models import Campaign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LEAD_PERMS = ("view_lead", "change_lead")


@pytest.mark.parametrize("width", [1366, 390])
def test_a_rep_filters_the_lead_list_by_utm_source(browser, live_server, width):  # noqa: F811
    rep = staff(*LEAD_PERMS, username="asha_rep")
    other = staff(*LEAD_PERMS, username="vikram_rep")
    LeadFactory(owner=rep, name="Facebook Farah", utm={"utm_source": "facebook", "utm_campaign": "diwali"})
    LeadFactory(owner=rep, name="Instagram Isha", utm={"utm_source": "instagram", "utm_campaign": "reel"})
    LeadFactory(owner=other, name="Google Gita", utm={"utm_source": "google", "utm_campaign": "rival"})

    page = login(browser, live_server, "asha_rep", width=width)
    page.goto(f"{live_server.url}/admin/whatsapp_leads/lead/")
    if width < 768:  # Django's admin folds the filters away on a phone
        toggle = page.locator("#changelist-filter-button, .changelist-filter-toggle")
        if toggle.count():
            toggle.first.click()
    filters = page.locator("#changelist-filter").inner_text()
    assert "UTM source" in filters and "facebook" in filters and "instagram" in filters
    assert "google" not in filters and "rival" not in filters
    page.click("#changelist-filter a[href*='utm_source=facebook']")
    page.wait_for_url("**utm_source=facebook**")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1 and "Facebook Farah" in rows.first.inner_text()
    shot(page, f"lead-list-utm-filter-{width}")


def test_a_manager_sets_a_campaigns_provider_and_number(browser, live_server):  # noqa: F811
    staff(*LEAD_PERMS, "view_all_leads", "change_campaign", "view_campaign", username="meera_manager")
    campaign = CampaignFactory(name="Diwali loans")
    page = login(browser, live_server, "meera_manager")
    page.goto(f"{live_server.url}/admin/whatsapp_leads/campaign/{campaign.pk}/change/")
    page.fill("#id_provider", "smsland")
    page.click("input[name=_save]")
    error = page.locator(".errorlist").first.inner_text()
    assert "not an enabled provider" in error
    shot(page, "campaign-provider-error-1366")
    page.fill("#id_provider", "meta")
    page.fill("#id_business_number", "106540352242922")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")
    campaign.refresh_from_db()
    assert (campaign.provider, campaign.business_number) == ("meta", "106540352242922")
    assert Campaign.objects.count() == 1
