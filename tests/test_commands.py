"""The tools for people testing by hand: whatsapp_simulate, whatsapp_reprocess, whatsapp_demo, .env bootstrap.

whatsapp_simulate goes through real HTTP (pytest-django's ``live_server``) into the real view;
the broker is kombu's in-memory transport (conftest) or an address where nothing listens.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import socket
import stat
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from tests.support.factories import AdFactory, MessageFactory, UserFactory, WebhookEventFactory
from whatsapp_leads.conf import app_settings
from whatsapp_leads.models import (
    Ad,
    Campaign,
    CampaignMember,
    Lead,
    Message,
    StatusUpdate,
    WebhookEvent,
)
from whatsapp_leads.providers.meta.signature import sign
from whatsapp_leads.providers.meta.simulation import dumps, inbound
from whatsapp_leads.services.processing import process_event

DEMO_AD_ID = "120226305854810726"
REPO_DIR = Path(__file__).resolve().parent.parent


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def webhook_live_url(live_server) -> str:
    return f"{live_server.url}/whatsapp/webhook/"


def pending_event(**kwargs) -> WebhookEvent:
    """A stored, signed-shaped inbound webhook the view would have written."""
    return WebhookEventFactory(body=dumps(inbound(**kwargs)))


# --- whatsapp_simulate ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_simulated_ad_click_is_stored_signed_and_becomes_a_lead_with_its_ad(webhook_live_url):
    ad = AdFactory(meta_id=DEMO_AD_ID)

    output = run(
        "whatsapp_simulate",
        "--url",
        webhook_live_url,
        "--ad-id",
        DEMO_AD_ID,
        "--name",
        "Asha",
        "--phone",
        "+91 98765 43210",
        "--text",
        "Hi, I'm interested",
    )

    assert "HTTP 200" in output
    event = WebhookEvent.objects.get()
    assert event.status == WebhookEvent.Status.PENDING
    assert event.headers["x-hub-signature-256"] == sign(event.body_bytes, "test_app_secret")
    assert process_event(event.pk).status == "processed"
    lead = Lead.objects.get()
    assert (lead.name, lead.phone, lead.wa_id) == ("Asha", "+919876543210", "919876543210")
    assert lead.first_message == "Hi, I'm interested"
    assert lead.ad == ad
    assert lead.campaign == ad.campaign
    assert lead.source_ad_id == DEMO_AD_ID
    assert lead.ctwa_clid


@pytest.mark.django_db(transaction=True)
def test_simulate_without_ad_id_sends_an_organic_message(webhook_live_url):
    run("whatsapp_simulate", "--url", webhook_live_url, "--phone", "+919812345678")

    process_event(WebhookEvent.objects.get().pk)
    lead = Lead.objects.get()
    assert lead.phone == "+919812345678"
    assert lead.ad is None
    assert lead.source_ad_id == ""


@pytest.mark.django_db(transaction=True)
def test_simulate_with_wrong_secret_is_an_error_showing_the_403_and_nothing_is_stored(webhook_live_url):
    with pytest.raises(CommandError) as refused:
        run("whatsapp_simulate", "--url", webhook_live_url, "--secret", "not-the-app-secret")

    assert "HTTP 403 Forbidden: Invalid signature" in str(refused.value)
    assert "WHATSAPP_APP_SECRET" in str(refused.value)
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_simulate_stops_at_the_first_refused_post_of_a_repeat(webhook_live_url):
    with pytest.raises(CommandError, match="HTTP 403"):
        run("whatsapp_simulate", "--url", webhook_live_url, "--secret", "wrong", "--repeat", "3")


@pytest.mark.django_db(transaction=True)
def test_simulate_to_a_path_that_is_not_the_webhook_is_an_error(live_server):
    with pytest.raises(CommandError, match="HTTP 404"):
        run("whatsapp_simulate", "--url", f"{live_server.url}/whatsapp/no-such-webhook/")


@pytest.mark.django_db(transaction=True)
def test_simulate_summarises_an_html_error_page_instead_of_printing_it(live_server, settings):
    """With DEBUG, a POST to the URL without its slash is Django's 500 page, tens of kilobytes."""
    settings.DEBUG = True

    with pytest.raises(CommandError) as refused:
        run("whatsapp_simulate", "--url", f"{live_server.url}/whatsapp/webhook")

    message = str(refused.value)
    assert "HTTP 500" in message
    assert "an HTML page of" in message
    assert "<html" not in message.lower()


@pytest.mark.django_db(transaction=True)
def test_simulate_reports_a_redirect_instead_of_following_it(live_server):
    """Without its trailing slash the URL redirects; the post never reached the webhook."""
    with pytest.raises(CommandError, match=r"HTTP 30[12]"):
        run("whatsapp_simulate", "--url", f"{live_server.url}/whatsapp/webhook")
    assert not WebhookEvent.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_simulate_refused_by_the_server_exits_non_zero_with_the_answer(webhook_live_url):
    """Scripts and CI read the exit status: a 403 must not look like success."""
    completed = subprocess.run(
        [sys.executable, "manage.py", "whatsapp_simulate", "--url", webhook_live_url, "--secret", "wrong"],
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, "DEBUG": "true"},
    )

    assert completed.returncode == 1
    assert "HTTP 403 Forbidden" in completed.stderr
    assert not WebhookEvent.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_simulate_accepted_by_the_server_exits_zero(webhook_live_url):
    completed = subprocess.run(
        [sys.executable, "manage.py", "whatsapp_simulate", "--url", webhook_live_url]
        + ["--secret", "test_app_secret"],
        cwd=REPO_DIR,
        capture_output=True,
        text=True,
        env={**os.environ, "DEBUG": "true"},
    )

    assert completed.returncode == 0, completed.stderr
    assert "HTTP 200 OK" in completed.stdout
    assert WebhookEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_simulate_status_of_moves_our_message_forward(webhook_live_url):
    sent = MessageFactory(direction=Message.Direction.OUTBOUND, status=Message.Status.SENT)

    output = run(
        "whatsapp_simulate", "--url", webhook_live_url, "--status-of", sent.wamid, "--status", "read"
    )

    assert f"status read of {sent.wamid} -> HTTP 200" in output
    assert process_event(WebhookEvent.objects.get().pk).status == "processed"
    sent.refresh_from_db()
    assert sent.status == Message.Status.READ
    assert not Lead.objects.exclude(pk=sent.conversation.lead_id).exists()


@pytest.mark.django_db(transaction=True)
def test_simulated_failed_status_carries_metas_error(webhook_live_url):
    sent = MessageFactory(direction=Message.Direction.OUTBOUND, status=Message.Status.SENT)

    run("whatsapp_simulate", "--url", webhook_live_url, "--status-of", sent.wamid, "--status", "failed")

    process_event(WebhookEvent.objects.get().pk)
    sent.refresh_from_db()
    assert sent.status == Message.Status.FAILED
    assert sent.error_code == "131049"
    assert StatusUpdate.objects.get(wamid=sent.wamid).status == "failed"


@pytest.mark.django_db(transaction=True)
def test_simulate_repeat_with_one_message_id_is_a_redelivery_stored_once(webhook_live_url):
    output = run(
        "whatsapp_simulate",
        "--url",
        webhook_live_url,
        "--message-id",
        "wamid.simulated-redelivery",
        "--repeat",
        "3",
    )

    assert output.count("HTTP 200") == 3
    events = list(WebhookEvent.objects.order_by("pk"))
    assert len(events) == 3
    assert [process_event(e.pk).status for e in events] == ["processed"] * 3
    assert Message.objects.get().wamid == "wamid.simulated-redelivery"
    assert Lead.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_simulate_repeat_sends_distinct_messages_by_default(webhook_live_url):
    run("whatsapp_simulate", "--url", webhook_live_url, "--repeat", "2")

    for event in WebhookEvent.objects.all():
        process_event(event.pk)
    assert Message.objects.count() == 2
    assert Lead.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_simulate_user_without_phone_becomes_a_lead_keyed_by_user_id(webhook_live_url):
    run("whatsapp_simulate", "--url", webhook_live_url, "--phone", "", "--user-id", "IN.1349120865530274")

    process_event(WebhookEvent.objects.get().pk)
    lead = Lead.objects.get()
    assert lead.user_id == "IN.1349120865530274"
    assert lead.wa_id is None
    assert lead.phone == ""


@pytest.mark.django_db(transaction=True)
def test_simulate_print_payload_shows_the_json_posted(webhook_live_url):
    output = run("whatsapp_simulate", "--url", webhook_live_url, "--ad-id", DEMO_AD_ID, "--print-payload")

    payload = json.loads(output[: output.rindex("}") + 1])
    referral = payload["entry"][0]["changes"][0]["value"]["messages"][0]["referral"]
    assert referral["source_id"] == DEMO_AD_ID
    assert json.loads(WebhookEvent.objects.get().body_text) == payload


def test_simulate_against_a_closed_port_is_a_clear_command_error():
    with pytest.raises(CommandError, match="Could not connect"):
        run("whatsapp_simulate", "--url", f"http://127.0.0.1:{free_port()}/whatsapp/webhook/")


def test_simulate_without_an_app_secret_names_the_setting(settings):
    settings.WHATSAPP_LEADS = {**settings.WHATSAPP_LEADS, "APP_SECRETS": []}

    with pytest.raises(CommandError, match="WHATSAPP_APP_SECRET"):
        run("whatsapp_simulate", "--url", "http://127.0.0.1:8000/whatsapp/webhook/")


def test_simulate_rejects_a_phone_that_is_not_a_number():
    with pytest.raises(CommandError, match="not a phone number"):
        run("whatsapp_simulate", "--url", "http://127.0.0.1:8000/whatsapp/webhook/", "--phone", "12")


# --- whatsapp_reprocess --------------------------------------------------------------------------


@pytest.mark.django_db
def test_reprocess_sync_processes_pending_events_inline():
    first = pending_event(wa_id="919800000001", name="Ravi")
    second = pending_event(wa_id="919800000002", name="Meena")

    output = run("whatsapp_reprocess", "--pending", "--sync")

    assert "2 selected: 2 processed, 0 failed" in output
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}
    assert set(Lead.objects.values_list("wa_id", flat=True)) == {"919800000001", "919800000002"}
    assert {first.pk, second.pk} == set(WebhookEvent.objects.values_list("pk", flat=True))


@pytest.mark.django_db
def test_reprocess_sync_reports_an_event_that_cannot_be_processed():
    WebhookEventFactory(body=b"not json")

    output = run("whatsapp_reprocess", "--pending", "--sync")

    assert "1 selected: 0 processed, 1 failed" in output
    assert "not valid JSON" in output
    assert WebhookEvent.objects.get().status == "failed"


@pytest.mark.django_db
def test_reprocess_skips_processed_events_unless_forced():
    event = pending_event()
    process_event(event.pk)

    assert "1 skipped" in run("whatsapp_reprocess", "--id", str(event.pk), "--sync")
    event.refresh_from_db()
    assert event.attempts == 1

    assert "1 processed" in run("whatsapp_reprocess", "--id", str(event.pk), "--sync", "--force")
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("processed", 2)
    assert Lead.objects.count() == 1
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_reprocess_failed_selects_failed_events_only_whatever_their_attempts():
    failed = pending_event(wa_id="919800000003")
    WebhookEvent.objects.filter(pk=failed.pk).update(status="failed", attempts=app_settings.MAX_ATTEMPTS)
    untouched = pending_event(wa_id="919800000004")

    output = run("whatsapp_reprocess", "--failed", "--sync")

    assert "1 selected: 1 processed" in output
    assert WebhookEvent.objects.get(pk=failed.pk).status == "processed"
    assert WebhookEvent.objects.get(pk=untouched.pk).status == "pending"


@pytest.mark.django_db
def test_reprocess_older_than_leaves_recent_events_alone():
    recent = pending_event(wa_id="919800000005")
    old = pending_event(wa_id="919800000006")
    two_hours_ago = timezone.now() - timedelta(hours=2)
    WebhookEvent.objects.filter(pk=old.pk).update(received_at=two_hours_ago, queued_at=two_hours_ago)

    output = run("whatsapp_reprocess", "--pending", "--older-than", "3600", "--sync")

    assert "1 selected: 1 processed" in output
    assert WebhookEvent.objects.get(pk=old.pk).status == "processed"
    assert WebhookEvent.objects.get(pk=recent.pk).status == "pending"


@pytest.mark.django_db
def test_reprocess_pending_publishes_each_event_to_the_broker(broker):
    first, second = pending_event(wa_id="919800000007"), pending_event(wa_id="919800000008")

    output = run("whatsapp_reprocess", "--pending")

    assert "2 selected: 2 queued, 0 could not be queued" in output
    assert sorted(broker()) == sorted(
        [
            ("whatsapp_leads.process_webhook_event", (first.pk,)),
            ("whatsapp_leads.process_webhook_event", (second.pk,)),
        ]
    )
    assert not WebhookEvent.objects.filter(queued_at__isnull=True).exists()
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"pending"}


@pytest.mark.django_db
def test_reprocess_force_queues_a_processed_event_again(broker):
    event = pending_event()
    process_event(event.pk)

    output = run("whatsapp_reprocess", "--id", str(event.pk), "--force")

    assert "1 queued" in output
    assert broker() == [("whatsapp_leads.process_webhook_event", (event.pk,))]
    event.refresh_from_db()
    assert event.status == "pending"


@pytest.mark.django_db
def test_reprocess_pending_with_broker_down_reports_failures_and_keeps_events(unreachable_broker):
    for n in range(5):
        pending_event(wa_id=f"91980000001{n}")

    output = run("whatsapp_reprocess", "--pending")

    assert "5 selected: 0 queued, 5 could not be queued" in output
    assert "--sync" in output
    assert WebhookEvent.objects.filter(status="pending", queued_at__isnull=True).count() == 5


@pytest.mark.django_db
def test_reprocess_names_ids_that_do_not_exist():
    event = pending_event()

    output = run("whatsapp_reprocess", "--id", str(event.pk), str(event.pk + 1000), "--sync")

    assert f"No webhook event with id {event.pk + 1000}" in output
    assert "1 selected: 1 processed" in output


def test_reprocess_needs_a_selection():
    with pytest.raises(CommandError, match="--pending, --failed and/or --id"):
        run("whatsapp_reprocess", "--sync")


# --- whatsapp_demo -------------------------------------------------------------------------------


def demo_rows() -> dict[str, object]:
    User = get_user_model()
    return {
        "users": sorted(User.objects.values_list("username", "is_staff", "is_superuser")),
        "groups": sorted(
            (g.name, sorted(g.permissions.values_list("codename", flat=True))) for g in Group.objects.all()
        ),
        "campaigns": list(Campaign.objects.values_list("pk", "name")),
        "members": sorted(CampaignMember.objects.values_list("campaign_id", "user__username", "is_active")),
        "ads": list(Ad.objects.values_list("meta_id", "campaign_id")),
        "memberships": sorted(User.groups.through.objects.values_list("user__username", "group__name")),
    }


@pytest.mark.django_db
def test_demo_is_idempotent(monkeypatch):
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "demo-admin-pass")
    monkeypatch.setenv("DEMO_REP_PASSWORD", "demo-rep-pass")

    first_output = run("whatsapp_demo")
    first = demo_rows()
    second_output = run("whatsapp_demo")

    assert demo_rows() == first
    assert "admin / demo-admin-pass" in first_output
    assert "rep1 / demo-rep-pass" in first_output
    assert "admin / demo-admin-pass" in second_output


@pytest.mark.django_db
def test_demo_builds_the_campaign_both_reps_take_and_links_the_ad(monkeypatch):
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "demo-admin-pass")

    run("whatsapp_demo")

    User = get_user_model()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password("demo-admin-pass")
    campaign = Campaign.objects.get(name="Demo: Home loans (Click-to-WhatsApp)")
    assert sorted(campaign.members.filter(is_active=True).values_list("user__username", flat=True)) == [
        "rep1",
        "rep2",
    ]
    assert Ad.objects.get(meta_id=DEMO_AD_ID).campaign == campaign
    for username in ("rep1", "rep2"):
        rep = User.objects.get(username=username)
        assert rep.is_staff and not rep.is_superuser
        assert list(rep.groups.values_list("name", flat=True)) == ["Sales reps"]


@pytest.mark.django_db
def test_demo_reps_see_only_their_leads_while_managers_see_all():
    run("whatsapp_demo")
    manager = UserFactory(username="manager")
    manager.groups.add(Group.objects.get(name="Sales managers"))

    rep = get_user_model().objects.get(username="rep1")
    assert rep.has_perm("whatsapp_leads.view_lead")
    assert rep.has_perm("whatsapp_leads.change_lead")
    assert not rep.has_perm("whatsapp_leads.view_all_leads")
    manager = get_user_model().objects.get(pk=manager.pk)  # fresh permission cache
    assert manager.has_perm("whatsapp_leads.view_all_leads")
    assert manager.has_perm("whatsapp_leads.change_lead")


@pytest.mark.django_db
def test_demo_never_resets_a_password_someone_changed_unless_asked(monkeypatch):
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "demo-admin-pass")
    run("whatsapp_demo")
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("changed-by-a-person")
    admin.save()

    output = run("whatsapp_demo")

    assert "password unchanged" in output
    assert "demo-admin-pass" not in output
    admin.refresh_from_db()
    assert admin.check_password("changed-by-a-person")

    assert "admin / demo-admin-pass" in run("whatsapp_demo", "--reset-passwords")
    admin.refresh_from_db()
    assert admin.check_password("demo-admin-pass")


@pytest.mark.django_db
def test_demo_keeps_a_member_someone_deactivated():
    run("whatsapp_demo")
    CampaignMember.objects.filter(user__username="rep2").update(is_active=False)

    run("whatsapp_demo")

    assert not CampaignMember.objects.get(user__username="rep2").is_active


@pytest.mark.django_db
def test_demo_generates_and_prints_a_password_when_none_is_configured(monkeypatch):
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)

    output = run("whatsapp_demo")

    line = next(line for line in output.splitlines() if " admin / " in line)
    password = line.split(" / ", 1)[1].split(" ", 1)[0]
    assert "generated" in line
    assert get_user_model().objects.get(username="admin").check_password(password)


@pytest.mark.django_db(transaction=True)
def test_simulated_click_on_the_demo_ad_goes_to_the_reps_in_turn(webhook_live_url):
    run("whatsapp_demo")

    for phone in ("+919876543210", "+919876543211", "+919876543212"):
        run("whatsapp_simulate", "--url", webhook_live_url, "--ad-id", DEMO_AD_ID, "--phone", phone)
    for event in WebhookEvent.objects.order_by("pk"):
        process_event(event.pk)

    owners = list(Lead.objects.order_by("created_at", "pk").values_list("owner__username", flat=True))
    assert owners == ["rep1", "rep2", "rep1"]
    assert set(Lead.objects.values_list("campaign__name", flat=True)) == {
        "Demo: Home loans (Click-to-WhatsApp)"
    }


# --- scripts/bootstrap_env.py --------------------------------------------------------------------


def load_bootstrap():
    spec = importlib.util.spec_from_file_location("bootstrap_env", REPO_DIR / "scripts" / "bootstrap_env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_env(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_bootstrap_env_writes_fresh_secrets_readable_only_by_the_owner(tmp_path, capsys):
    bootstrap = load_bootstrap()

    assert bootstrap.main(["--path", str(tmp_path / "a.env")]) == 0
    bootstrap.main(["--path", str(tmp_path / "b.env")])

    a, b = read_env(tmp_path / "a.env"), read_env(tmp_path / "b.env")
    secret_keys = (
        "DJANGO_SECRET_KEY",
        "WHATSAPP_APP_SECRET",
        "WHATSAPP_VERIFY_TOKEN",
        "DEMO_ADMIN_PASSWORD",
        "DEMO_REP_PASSWORD",
    )
    for key in secret_keys:
        assert len(a[key]) >= 16
        assert a[key] != b[key]
    assert a["DEBUG"] == "true"
    assert a["WHATSAPP_DEFAULT_OWNER"] == "admin"
    assert stat.S_IMODE(os.stat(tmp_path / "a.env").st_mode) == 0o600
    printed = capsys.readouterr().out
    assert not any(a[key] in printed or b[key] in printed for key in secret_keys)


def test_bootstrap_env_never_overwrites_an_existing_file(tmp_path, capsys):
    bootstrap = load_bootstrap()
    existing = tmp_path / ".env"
    existing.write_text("DATABASE_URL=postgres://example/crm\n")

    bootstrap.main(["--path", str(existing)])

    assert existing.read_text() == "DATABASE_URL=postgres://example/crm\n"
    assert "left unchanged" in capsys.readouterr().out


def test_bootstrap_env_values_are_read_back_unchanged_by_django_environ(tmp_path):
    import environ

    class IsolatedEnv(environ.Env):
        ENVIRON: dict[str, str] = {}  # read into this dict, not os.environ

    path = tmp_path / ".env"
    load_bootstrap().create(path)
    IsolatedEnv.read_env(path)

    env = IsolatedEnv()
    assert {key: env.str(key) for key in read_env(path)} == read_env(path)
    assert env.bool("DEBUG") is True


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_separate_simulate_runs_send_distinct_message_ids(webhook_live_url):
    """Each run is a new process: ids must not repeat across runs, or the second click is dropped."""
    for phone in ("+919876543210", "+919812345678"):
        subprocess.run(
            [sys.executable, "manage.py", "whatsapp_simulate", "--url", webhook_live_url, "--phone", phone]
            + ["--ad-id", DEMO_AD_ID, "--secret", "test_app_secret"],
            cwd=REPO_DIR,
            check=True,
            capture_output=True,
            env={**os.environ, "DEBUG": "true"},
        )
    for event in WebhookEvent.objects.order_by("pk"):
        process_event(event.pk)

    assert Message.objects.count() == 2
    assert set(Lead.objects.values_list("phone", "source_ad_id")) == {
        ("+919876543210", DEMO_AD_ID),
        ("+919812345678", DEMO_AD_ID),
    }


# --- documentation: README and the settings reference ----------------------------------------------


SETTINGS_REFERENCE = REPO_DIR / "docs" / "settings.md"


def test_settings_reference_documents_every_environment_variable_the_settings_read():
    settings_source = (REPO_DIR / "bharatcrm" / "settings.py").read_text()
    names = set(re.findall(r'(?:env|Env\(\))(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', settings_source))
    reference = SETTINGS_REFERENCE.read_text()

    assert {"DATABASE_URL", "CELERY_BROKER_URL", "WHATSAPP_APP_SECRET"} <= names
    assert sorted(n for n in names if f"| `{n}` |" not in reference) == []


def test_settings_reference_documents_every_app_setting():
    from whatsapp_leads.conf import DEFAULTS

    reference = SETTINGS_REFERENCE.read_text()

    assert sorted(key for key in DEFAULTS if f"| `{key}` |" not in reference) == []


def test_readme_links_the_settings_reference():
    assert "](docs/settings.md)" in (REPO_DIR / "README.md").read_text()
