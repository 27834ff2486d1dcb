"""The host project's own pages: the landing page at ``/`` and the admin's BharatCRM branding."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from tests.support.factories import CampaignFactory

API_DOCS = "/whatsapp/api/schema/swagger/"


def hrefs(html: str) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', html))


@pytest.mark.django_db
def test_landing_page_says_what_this_is_and_links_the_admin_api_docs_and_webhook(client: Client):
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>BharatCRM</h1>" in html
    assert "Click-to-WhatsApp" in html
    assert {"/admin/", API_DOCS, "/whatsapp/webhook/"} <= hrefs(html)
    # The full callback URL to paste into Meta's App Dashboard, for the host the visitor used.
    assert "http://testserver/whatsapp/webhook/" in html


@pytest.mark.django_db
def test_landing_page_styles_are_served_from_this_site(client: Client):
    html = client.get("/").content.decode()

    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert stylesheets == ["/static/bharatcrm/site.css"]
    assert finders.find("bharatcrm/site.css"), "the stylesheet must be found by collectstatic"
    assert "max-width" in Path(str(finders.find("bharatcrm/site.css"))).read_text()
    assert 'name="viewport"' in html


@pytest.mark.django_db
def test_landing_page_offers_a_logged_in_user_the_admin_instead_of_a_login(client: Client, rep):
    assert "Log in to the admin" in client.get("/").content.decode()

    client.force_login(rep)

    assert "Open the admin" in client.get("/").content.decode()


@pytest.mark.django_db
def test_admin_view_site_link_leads_to_the_landing_page(client: Client, superuser):
    client.force_login(superuser)

    html = client.get(reverse("admin:index")).content.decode()

    assert 'href="/"' in html  # "View site"
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_admin_login_page_is_branded_bharatcrm(client: Client):
    html = client.get(reverse("admin:login")).content.decode()

    assert "<title>Log in | BharatCRM</title>" in html
    assert '<div id="site-name"><a href="/admin/">BharatCRM</a></div>' in html
    assert "Django administration" not in html


@pytest.mark.django_db
def test_admin_pages_and_the_apps_own_admin_pages_are_branded_bharatcrm(client: Client, superuser):
    campaign = CampaignFactory()
    client.force_login(superuser)

    pages = [
        reverse("admin:index"),
        reverse("admin:whatsapp_leads_lead_changelist"),
        reverse("admin:whatsapp_leads_campaign_numbers", args=[campaign.pk]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert re.search(r"<title>[^<]*\| BharatCRM</title>", html), url
        assert ">BharatCRM</a></div>" in html, url
        assert "Django site admin" not in html, url
