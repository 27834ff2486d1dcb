"""Campaigns, their ads, and the sales reps who take their leads."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

from ..conf import DEFAULT_PROVIDER, app_settings
from ..keywords import keyword_errors


def validate_keywords(value: str) -> None:
    """Reject keyword lists with a broken ``/regex/`` entry, naming it, before a lead ever meets it."""
    errors = keyword_errors(value)
    if errors:
        raise ValidationError(errors)


class Campaign(models.Model):
    """A Click-to-WhatsApp campaign; routes the leads its ads bring."""

    class SlaAction(models.TextChoices):
        NOTIFY = "notify", "Notify the owner, then the managers"
        REASSIGN = "reassign", "Re-assign to the next eligible member"

    class SlaClock(models.TextChoices):
        BUSINESS = "business", "Business time (working hours)"
        WALL = "wall", "Wall-clock time"

    class Strategy(models.TextChoices):
        FIXED = "fixed", "Fixed owner"
        ROUND_ROBIN = "round_robin", "Round robin"
        WEIGHTED = "weighted", "Weighted round robin"
        LEAST_LOADED = "least_loaded", "Least loaded (fewest open leads)"

    meta_id = models.CharField(
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text="Meta's campaign id; empty for campaigns made by hand.",
    )
    name = models.CharField(max_length=255, help_text="Campaign name as shown to staff.")
    is_active = models.BooleanField(
        default=True, help_text="Inactive campaigns still attribute, never route."
    )
    routing_strategy = models.CharField(
        max_length=20,
        choices=Strategy.choices,
        default=Strategy.ROUND_ROBIN,
        help_text="How new leads are shared: one fixed owner; members in turn; in turn by weight; "
        "or to the member with the fewest open leads.",
    )
    fixed_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="With the 'fixed owner' rule, every lead goes to this person (members are ignored).",
    )
    keywords = models.TextField(
        blank=True,
        validators=[validate_keywords],
        help_text="Chats that arrive without an ad join this campaign when their first message contains "
        "one of these words or phrases (comma- or line-separated, any case, whole words), or matches a "
        "/regular expression/ written between slashes. Empty: the campaign claims no chats.",
    )
    reference_code = models.CharField(
        max_length=40,
        blank=True,
        help_text="Code in the ad's prefilled first message, e.g. HL-DIWALI for \"[HL-DIWALI] I want a "
        "loan\"; stored on the lead's utm as 'ref' (and, with no ad, it claims the chat for this campaign).",
    )
    keyword_priority = models.IntegerField(
        default=0,
        help_text="When the keywords of several campaigns match, the highest priority wins "
        "(then the oldest campaign).",
    )
    last_assigned_member = models.ForeignKey(
        "CampaignMember",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The member who got the previous lead (the round-robin cursor).",
    )
    fallback_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Gets the lead when no member can take it, or when nobody is on duty and "
        "OFF_HOURS_ROUTING is 'fallback'; WHATSAPP_DEFAULT_OWNER when empty.",
    )
    objective = models.CharField(
        max_length=64, blank=True, help_text="Meta's campaign objective, e.g. OUTCOME_ENGAGEMENT."
    )
    status = models.CharField(
        max_length=32,
        blank=True,
        help_text="Meta's status (ACTIVE, PAUSED, ...). Routing follows 'is active', not this.",
    )
    account_id = models.CharField(max_length=64, blank=True, help_text="Meta ad account, act_<digits>.")
    welcome_text = models.TextField(
        blank=True,
        help_text="Greeting sent automatically to each new lead within seconds of its first message; "
        "empty sends none.",
    )
    welcome_template = models.ForeignKey(
        "whatsapp_leads.MessageTemplate",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"status": "APPROVED"},
        help_text="A body-only approved template to greet with instead of the text (its {{1}} is the lead's name).",
    )
    # --- first-response SLA (services/sla) --------------------------------------------------------------
    first_response_sla = models.DurationField(
        null=True,
        blank=True,
        help_text="How soon a person must first answer a new lead (e.g. 00:10:00); empty for no SLA.",
    )
    sla_action = models.CharField(
        max_length=10,
        choices=SlaAction.choices,
        default=SlaAction.NOTIFY,
        help_text="On a breach: notify the owner (then the campaign's managers), or re-assign the lead "
        "to the next eligible member by the routing rule (once per breach, never the same rep).",
    )
    sla_clock = models.CharField(
        max_length=10,
        choices=SlaClock.choices,
        default=SlaClock.BUSINESS,
        help_text="Count the SLA in business time (the owner's working hours, the business time zone) "
        "or in wall-clock time.",
    )
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="managed_whatsapp_campaigns",
        help_text="Told when the campaign's leads breach the SLA; they see the campaign's numbers.",
    )
    # --- which provider and business number the campaign's conversations use -------------------------
    provider = models.CharField(
        max_length=20,
        blank=True,
        help_text="The provider (PROVIDERS name) of the campaign's business number; empty: the default.",
    )
    business_number = models.CharField(
        max_length=64,
        blank=True,
        help_text="The business number that starts conversations for this campaign: a Cloud API phone "
        "number id, or a provider's sender such as whatsapp:+14155238886; empty: the provider's default.",
    )
    synced_at = models.DateTimeField(
        null=True, blank=True, help_text="When Meta's Marketing API last told us about it."
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the row was created.")
    updated_at = models.DateTimeField(auto_now=True, help_text="When the row last changed.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.routing_strategy == self.Strategy.FIXED and self.fixed_owner_id is None:
            raise ValidationError({"fixed_owner": "The 'fixed owner' rule needs a fixed owner."})
        errors = sender_errors(self.provider, self.business_number)
        if errors:
            raise ValidationError(errors)


def enabled_providers() -> dict[str, type]:
    """The enabled provider classes by name, read from the setting (models sit beside providers, not above)."""
    return {str(getattr(cls, "name", "")): cls for cls in app_settings.PROVIDERS if getattr(cls, "name", "")}


def sender_errors(provider: str, business_number: str) -> dict[str, str]:
    """What is wrong with a campaign's provider and business number, in words; empty when nothing."""
    enabled = enabled_providers()
    name = provider.strip()
    if name and name not in enabled:
        known = ", ".join(sorted(enabled)) or "none"
        return {"provider": f"{name!r} is not an enabled provider (WHATSAPP_LEADS['PROVIDERS']): "
                f"leave it empty for the default, or use one of: {known}."}  # fmt: skip
    cls = enabled.get(name or DEFAULT_PROVIDER)
    number = business_number.strip()
    if number and cls is not None:
        try:
            cls.sender_id(number)  # type: ignore[attr-defined]  # a Provider subclass (system check E009)
        except ValueError as exc:
            return {"business_number": str(exc)}
    return {}


class CampaignMember(models.Model):
    """A sales rep taking part in a campaign's routing."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="members", help_text="The campaign."
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="whatsapp_campaign_memberships",
        help_text="The sales rep.",
    )
    is_active = models.BooleanField(default=True, help_text="Only active members receive new leads.")
    paused_until = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Paused: receives no new leads until this moment (leave, training). Empty: not paused.",
    )
    weight = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1)],
        help_text="With the weighted rule, a member of weight 3 gets three leads for every one a "
        "member of weight 1 gets.",
    )
    current_weight = models.IntegerField(
        default=0,
        editable=False,
        help_text="Weighted round-robin state (smooth weighted round robin); changed only under the "
        "campaign's row lock.",
    )
    daily_cap = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Most new leads from this campaign per day (the business's day). Empty: no cap.",
    )
    work_days = models.CharField(
        max_length=7,
        blank=True,
        validators=[RegexValidator(r"^[1-7]*$", "Weekdays are digits 1 (Monday) to 7 (Sunday).")],
        help_text="Days on duty, as weekday digits: 1 Monday ... 7 Sunday (12345: Monday to Friday). "
        "Empty: every day.",
    )
    work_start = models.TimeField(
        null=True,
        blank=True,
        help_text="Shift start in the business's time zone. Empty: from midnight.",
    )
    work_end = models.TimeField(
        null=True,
        blank=True,
        help_text="Shift end in the business's time zone; earlier than the start for a night shift. "
        "Empty: until midnight. Days and times all empty: always on duty.",
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the rep joined the campaign.")

    class Meta:
        ordering = ["campaign", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "user"], name="wl_member_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.campaign}"

    def clean(self) -> None:
        # Sorted, without repeats, so the stored value reads the same however it was typed.
        self.work_days = "".join(sorted(set(self.work_days or "")))
        if self.work_start is not None and self.work_start == self.work_end:
            raise ValidationError({"work_end": "A shift must end at another time than it starts."})


class AdSet(models.Model):
    """A Meta ad set: where the Click-to-WhatsApp destination is set, between campaign and ad."""

    meta_id = models.CharField(max_length=64, unique=True, help_text="Meta's ad set id.")
    name = models.CharField(max_length=255, blank=True, help_text="Ad set name from Meta.")
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="adsets",
        help_text="The campaign the ad set belongs to, once known.",
    )
    destination_type = models.CharField(
        max_length=32, blank=True, help_text="Where the ads send people; WHATSAPP for Click-to-WhatsApp."
    )
    status = models.CharField(max_length=32, blank=True, help_text="Meta's configured status.")
    effective_status = models.CharField(
        max_length=32, blank=True, help_text="Meta's status after its campaign's (e.g. CAMPAIGN_PAUSED)."
    )
    account_id = models.CharField(max_length=64, blank=True, help_text="Meta ad account, act_<digits>.")
    synced_at = models.DateTimeField(
        null=True, blank=True, help_text="When Meta's Marketing API last told us about it."
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the row was created.")
    updated_at = models.DateTimeField(auto_now=True, help_text="When the row last changed.")

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "ad set"

    def __str__(self) -> str:
        return self.name or f"Ad set {self.meta_id}"


class Ad(models.Model):
    """An ad that sent people to WhatsApp, known by the referral's ``source_id``."""

    meta_id = models.CharField(max_length=64, unique=True, help_text="Meta's ad id (referral source_id).")
    name = models.CharField(max_length=255, blank=True, help_text="Ad name, once known.")
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ads",
        help_text="The campaign the ad belongs to, once known.",
    )
    adset = models.ForeignKey(
        AdSet,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ads",
        help_text="The ad set the ad belongs to, once known.",
    )
    status = models.CharField(max_length=32, blank=True, help_text="Meta's configured status.")
    effective_status = models.CharField(
        max_length=32, blank=True, help_text="Meta's status after its ad set's and campaign's."
    )
    account_id = models.CharField(max_length=64, blank=True, help_text="Meta ad account, act_<digits>.")
    synced_at = models.DateTimeField(
        null=True, blank=True, help_text="When the campaign sync last saw it on Meta."
    )
    looked_up_at = models.DateTimeField(
        null=True, blank=True, help_text="When we last asked Meta for this ad by id (empty: never)."
    )
    lookup_error = models.TextField(
        blank=True, help_text="Why the last lookup failed, in Meta's words; empty once it succeeds."
    )
    headline = models.CharField(max_length=500, blank=True, help_text="Ad headline from the latest referral.")
    source_url = models.URLField(max_length=1000, blank=True, help_text="Ad URL from the latest referral.")
    created_at = models.DateTimeField(auto_now_add=True, help_text="When we first saw the ad.")
    updated_at = models.DateTimeField(auto_now=True, help_text="When the row last changed.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name or self.headline or f"Ad {self.meta_id}"
