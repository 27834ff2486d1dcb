"""What the API shows of leads, messages, assignments and campaigns, and what it lets people change.

Reading and writing a lead are separate serializers: almost everything on a lead comes from
WhatsApp and is shown, never edited; ``LeadUpdateSerializer`` takes only name, status, owner and the
deal's value and currency, refuses any other field by name (a client that sends ``phone`` learns it was not saved), and sends
a change of owner through ``services.assignment.reassign`` so it is audited and announced exactly
like a re-assignment in the admin.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib.auth import get_user_model
from django.db import models, transaction
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..adapter import get_adapter
from ..models import Ad, Campaign, Lead, LeadAssignment, Message
from ..parsing.safe_text import printable
from ..permissions import can_reassign_leads
from ..services import assignment, lead_status
from ..services.ad_numbers import AdNumbers
from ..services.campaign_stats import CampaignNumbers
from ..services.response_stats import ResponseFigures, ResponseNumbers

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class LeadCounts(TypedDict):
    """The counts ``queries.leads_for`` annotates on every lead of the API."""

    n_messages: int
    n_inbound: int
    n_conversations: int
    n_assignments: int


class PrintableJSONField(serializers.JSONField):
    """A stored JSON value as the API shows it: any string a row holds encodes (``printable``)."""

    def to_representation(self, value: Any) -> Any:
        return printable(super().to_representation(value))


class PrintableModelSerializer(serializers.ModelSerializer):
    """Model serializer whose JSON columns cannot make an answer unencodable (a 500)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.JSONField: PrintableJSONField,
    }


class UserSummarySerializer(serializers.Serializer):
    """A person as other screens name them: id, login and full name (the login when none)."""

    id = serializers.IntegerField(source="pk", read_only=True)
    username = serializers.CharField(source="get_username", read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, user: Any) -> str:
        full = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
        return full or user.get_username()


class CampaignSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = ("id", "name", "meta_id")
        read_only_fields = fields


class AdSerializer(serializers.ModelSerializer):
    # Text, not a URLField: the published schema would promise a URL, and it is often empty.
    source_url = serializers.CharField(
        read_only=True, help_text="Ad URL from the latest referral; may be empty."
    )

    class Meta:
        model = Ad
        fields = ("id", "meta_id", "name", "headline", "source_url")
        read_only_fields = fields


class LeadCountsSerializer(serializers.Serializer):
    """How far a lead's conversation went (schema of ``LeadSerializer.counts``)."""

    messages = serializers.IntegerField()
    inbound_messages = serializers.IntegerField()
    conversations = serializers.IntegerField()
    assignments = serializers.IntegerField()


class LeadSerializer(PrintableModelSerializer):
    """A lead in a list: who, where from, whose, and how far the conversation went."""

    owner = UserSummarySerializer(read_only=True, allow_null=True)
    campaign = CampaignSummarySerializer(read_only=True, allow_null=True)
    counts = serializers.SerializerMethodField()

    class Meta:
        model = Lead
        fields: tuple[str, ...] = (
            "id",
            "name",
            "phone",
            "wa_id",
            "user_id",
            "username",
            "status",
            "owner",
            "campaign",
            "source_ad_id",
            "first_message",
            "created_at",
            "last_message_at",
            "marketing_opt_out",
            "counts",
            # engagement (services/engagement): kept as messages are stored
            "first_response_seconds",
            "first_response_business_seconds",
            "awaiting_reply_since",
            "inbound_count",
            "outbound_count",
            "last_inbound_at",
            "last_outbound_at",
        )
        read_only_fields = fields

    @extend_schema_field(LeadCountsSerializer)
    def get_counts(self, lead: WithAnnotations[Lead, LeadCounts]) -> dict[str, int]:
        """From the queryset's annotations (``queries.leads_for``): no query per lead."""
        return {
            "messages": lead.n_messages,
            "inbound_messages": lead.n_inbound,
            "conversations": lead.n_conversations,
            "assignments": lead.n_assignments,
        }


class LeadDetailSerializer(LeadSerializer):
    """One lead: the list's fields plus contact details, the ad and its first-touch referral."""

    ad = AdSerializer(read_only=True, allow_null=True)
    average_response_seconds = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Mean wall-clock wait our answers ended; null before any."
    )
    average_response_business_seconds = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The same in business seconds (the owner's working hours)."
    )
    # Text, not an EmailField: the published schema would promise an address, and it is often empty.
    email = serializers.CharField(
        read_only=True, help_text="Email address, e.g. from a WhatsApp Flow form; may be empty."
    )

    class Meta(LeadSerializer.Meta):
        fields = (
            *LeadSerializer.Meta.fields,
            "email",
            "city",
            "extra",
            "ad",
            "ctwa_clid",
            "referral",
            "first_touch_at",
            "first_message_at",
            "marketing_opt_out_at",
            "updated_at",
            # ad loop
            "deal_value",
            "deal_currency",
            "utm",
            "country",
            "location",
            # engagement and the first-response SLA
            "first_inbound_at",
            "first_reply_at",
            "last_response_seconds",
            "last_response_business_seconds",
            "response_count",
            "average_response_seconds",
            "average_response_business_seconds",
            "sla_started_at",
            "sla_due_at",
            "sla_breached_at",
        )
        read_only_fields = fields


class LeadUpdateSerializer(serializers.ModelSerializer):
    """PATCH body: ``name``, ``status`` and (managers only, checked by the view) ``owner``."""

    owner = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model()._default_manager.all(),
        allow_null=True,
        required=False,
        help_text="The new owner's user id; null leaves the lead unassigned. Managers only.",
    )

    class Meta:
        model = Lead
        fields = ("name", "status", "owner", "deal_value", "deal_currency")  # deal_*: ad loop
        extra_kwargs = {
            "deal_value": {"min_value": 0, "help_text": "Value of the sale; sent to Meta with Purchase."},
            "deal_currency": {"help_text": "ISO 4217 code, e.g. INR; empty: DEAL_CURRENCY."},
        }

    def get_fields(self) -> dict[str, serializers.Field]:
        """Without the right to re-assign, ``owner`` is not a field at all (the browsable API's form
        then leaves it out; the view answers a body naming it with 403 before this runs).

        The OpenAPI schema describes the body for everyone, so there it is listed (drf-spectacular
        marks the views it builds to describe with ``swagger_fake_view``)."""
        fields = super().get_fields()
        if getattr(self.context.get("view"), "swagger_fake_view", False):
            return fields
        request = self.context.get("request")
        if request is None or not can_reassign_leads(request.user):
            fields.pop("owner")
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        data = self.initial_data if isinstance(self.initial_data, dict) else {}
        refused = sorted(set(data) - set(self.fields))
        if refused:
            raise serializers.ValidationError(
                {name: "This field cannot be changed through the API." for name in refused}
            )
        # DRF's CharField turns a number into text; the schema says these are strings, so they are.
        not_text = [
            name for name in ("name", "deal_currency") if name in data and not isinstance(data[name], str)
        ]
        if not_text:
            raise serializers.ValidationError({name: "Must be a string." for name in not_text})
        return attrs

    def validate_deal_currency(self, value: str) -> str:
        if value and not (len(value) == 3 and value.isascii() and value.isalpha()):
            raise serializers.ValidationError("A three-letter ISO 4217 code, e.g. INR.")
        return value.upper()

    def validate_owner(self, owner: Any) -> Any:
        if owner is not None and not get_adapter().is_eligible_owner(owner):
            raise serializers.ValidationError("This user cannot take leads.")
        return owner

    def update(self, instance: Lead, validated_data: dict[str, Any]) -> Lead:
        """Lock the lead, apply name and status, then hand it over if the owner changes.

        The row lock keeps a concurrent routing decision (a late first touch re-routing the
        lead) from interleaving with a manager's choice; the last writer's assignment row is
        then also the lead's owner.
        """
        by = self.context["request"].user
        with transaction.atomic():
            lead = Lead.objects.select_for_update(of=("self",)).select_related("owner").get(pk=instance.pk)
            changed = [
                name
                for name in ("name", "status", "deal_value", "deal_currency")
                if name in validated_data and getattr(lead, name) != validated_data[name]
            ]
            old_status = lead.status
            for name in changed:
                setattr(lead, name, validated_data[name])
            if changed:
                lead.save(update_fields=[*changed, "updated_at"])
                lead_status.record_change(lead, old=old_status, new=lead.status, by=by, source="api")
            if "owner" in validated_data:
                owner = validated_data["owner"]
                if lead.owner_id != (owner.pk if owner is not None else None):
                    assignment.reassign(lead, owner=owner, by=by)
        return lead


class MessageSerializer(PrintableModelSerializer):
    """One line of the transcript; files are listed, not served (only the admin serves them)."""

    business_number = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = (
            "id",
            "wamid",
            "direction",
            "type",
            "text",
            "timestamp",
            "status",
            "business_number",
            "sent_at",
            "delivered_at",
            "read_at",
            "failed_at",
            "error_code",
            "error_title",
            "reply_to_wamid",
            "forwarded",
            "media_mime_type",
            "media_filename",
            "media_caption",
            "media_size",
            "media_status",
            "details",
            "form_response",
            "referral",
        )
        read_only_fields = fields

    def get_business_number(self, message: Message) -> str:
        conversation = message.conversation
        return conversation.display_phone_number or conversation.phone_number_id


class LeadAssignmentSerializer(serializers.ModelSerializer):
    owner = UserSummarySerializer(read_only=True, allow_null=True)
    previous_owner = UserSummarySerializer(read_only=True, allow_null=True)
    assigned_by = UserSummarySerializer(read_only=True, allow_null=True)
    campaign = CampaignSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = LeadAssignment
        fields = ("id", "created_at", "owner", "previous_owner", "reason", "campaign", "assigned_by")
        read_only_fields = fields


class CampaignSerializer(serializers.ModelSerializer):
    strategy = serializers.CharField(source="routing_strategy", read_only=True)
    active = serializers.BooleanField(source="is_active", read_only=True)
    members = serializers.IntegerField(source="n_members", read_only=True)
    active_members = serializers.IntegerField(source="n_active_members", read_only=True)

    class Meta:
        model = Campaign
        fields = (
            "id", "name", "meta_id", "strategy", "active", "members", "active_members",
            "provider", "business_number", "created_at",
            "first_response_sla", "sla_action", "sla_clock",
        )  # fmt: skip
        read_only_fields = fields


# --- ad loop: spend, cost per lead, revenue, ROAS --------------------------------------------------
MONEY_HELP = "Decimal string in the ad account's currency; null where undefined (nothing to divide by)."


class FiguresSerializer(serializers.Serializer):
    """Schema of one row of money figures (the campaign's, or one ad's)."""

    spend = serializers.CharField(help_text="Amount spent (decimal string).")
    leads = serializers.IntegerField()
    cost_per_lead = serializers.CharField(allow_null=True, help_text=MONEY_HELP)
    qualified = serializers.IntegerField(help_text="Leads now qualified or won.")
    won = serializers.IntegerField()
    cost_per_won = serializers.CharField(allow_null=True, help_text=MONEY_HELP)
    revenue = serializers.CharField(help_text="Sum of won leads' deal values (decimal string).")
    roas = serializers.FloatField(allow_null=True, help_text="revenue / spend; null without spend.")
    impressions = serializers.IntegerField()
    clicks = serializers.IntegerField()
    conversations = serializers.IntegerField(help_text="Conversations started, as Meta counts them.")


class AdFiguresSerializer(FiguresSerializer):
    ad_id = serializers.IntegerField(allow_null=True, help_text="Our ad id; null for leads without an ad.")
    meta_id = serializers.CharField()
    name = serializers.CharField()


class DaySpendSerializer(serializers.Serializer):
    day = serializers.DateField()
    spend = serializers.CharField()
    leads = serializers.IntegerField()


class CountryLeadsSerializer(serializers.Serializer):
    country = serializers.CharField(help_text="ISO 3166 code; empty when unknown.")
    leads = serializers.IntegerField()


class CityLeadsSerializer(CountryLeadsSerializer):
    city = serializers.CharField()


def _money(value: Any) -> str | None:
    return None if value is None else str(value.quantize(Decimal("0.01")))


def figures_data(figures: Any) -> dict[str, Any]:
    return {
        "spend": _money(figures.spend),
        "leads": figures.leads,
        "cost_per_lead": _money(figures.cost_per_lead),
        "qualified": figures.qualified,
        "won": figures.won,
        "cost_per_won": _money(figures.cost_per_won),
        "revenue": _money(figures.revenue),
        "roas": None if figures.roas is None else float(figures.roas),
        "impressions": figures.impressions,
        "clicks": figures.clicks,
        "conversations": figures.conversations,
    }


def ad_numbers_data(numbers: AdNumbers) -> dict[str, Any]:
    """The range's money figures at the top level (``spend``, ``leads``, ``cost_per_lead``...)."""
    return {
        "since": numbers.since.isoformat() if numbers.since else None,
        "until": numbers.until.isoformat() if numbers.until else None,
        "currency": numbers.currency,
        **figures_data(numbers.total),
        "per_ad": [
            {"ad_id": f.ad_id, "meta_id": f.meta_id, "name": f.name, **figures_data(f)}
            for f in numbers.per_ad
        ],
        "spend_per_day": [
            {"day": day.isoformat(), "spend": _money(spend), "leads": leads}
            for day, spend, leads in numbers.per_day
        ],
        "by_country": [{"country": c, "leads": n} for c, n in numbers.by_country],
        "by_city": [{"country": c, "city": city, "leads": n} for c, city, n in numbers.by_city],
    }


# --- end ad loop ------------------------------------------------------------------------------------


class NumbersQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(
        required=False, default=30, min_value=1, max_value=366, help_text="Days of leads per day."
    )
    since = serializers.DateField(
        required=False,
        help_text="First day (YYYY-MM-DD, business time zone) of the range; default: all time.",
    )
    until = serializers.DateField(
        required=False, help_text="Last day of the range (inclusive); default: today."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since > until:
            raise serializers.ValidationError({"since": "The range starts after it ends (since > until)."})
        return attrs


class DayLeadsSerializer(serializers.Serializer):
    day = serializers.DateField()
    leads = serializers.IntegerField()


class StatusLeadsSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Lead.Status.choices)
    label = serializers.CharField()  # type: ignore[assignment]  # the JSON key; shadows Field.label
    leads = serializers.IntegerField()


class RepNumbersSerializer(serializers.Serializer):
    owner_id = serializers.IntegerField(allow_null=True, help_text="null: the unassigned leads.")
    name = serializers.CharField()
    leads = serializers.IntegerField()
    open = serializers.IntegerField()
    won = serializers.IntegerField()
    conversion = serializers.FloatField(allow_null=True, help_text="won / leads, 0 to 1.")


# --- response times and the first-response SLA (services/response_stats) ------------------------------
SECONDS_HELP = "Seconds; null when no lead in the set was answered."


class ResponseFiguresSerializer(serializers.Serializer):
    leads = serializers.IntegerField(help_text="Leads created in the range.")
    answered = serializers.IntegerField(
        help_text="Leads a person answered (greetings and echoes do not count)."
    )
    median_seconds = serializers.FloatField(
        allow_null=True, help_text=f"Median first response, wall clock. {SECONDS_HELP}"
    )
    p90_seconds = serializers.FloatField(
        allow_null=True, help_text=f"90th percentile, wall clock. {SECONDS_HELP}"
    )
    average_seconds = serializers.FloatField(
        allow_null=True, help_text=f"Average, wall clock. {SECONDS_HELP}"
    )
    median_business_seconds = serializers.FloatField(
        allow_null=True, help_text=f"Median in business time. {SECONDS_HELP}"
    )
    p90_business_seconds = serializers.FloatField(
        allow_null=True, help_text=f"90th percentile in business time. {SECONDS_HELP}"
    )
    average_business_seconds = serializers.FloatField(
        allow_null=True, help_text=f"Average in business time. {SECONDS_HELP}"
    )
    within_sla = serializers.IntegerField(
        help_text="Answered within the SLA, in the campaign's clock, never breached."
    )
    judged = serializers.IntegerField(
        help_text="Leads the SLA has decided on: answered, or unanswered past due."
    )
    within_sla_share = serializers.FloatField(
        allow_null=True,
        help_text="within_sla / judged, 0 to 1; null without an SLA or with nothing judged yet.",
    )
    unanswered = serializers.IntegerField(help_text="Leads awaiting a reply that never had a first answer.")
    breached_leads = serializers.IntegerField(help_text="Leads that breached the SLA at least once.")


class RepResponseSerializer(ResponseFiguresSerializer):
    owner_id = serializers.IntegerField(allow_null=True, help_text="null: the unassigned leads.")
    name = serializers.CharField()


class DayBreachesSerializer(serializers.Serializer):
    day = serializers.DateField()
    breaches = serializers.IntegerField()


class ResponseNumbersSerializer(serializers.Serializer):
    sla_seconds = serializers.IntegerField(
        allow_null=True, help_text="The campaign's first-response SLA; null: none."
    )
    sla_clock = serializers.ChoiceField(
        choices=Campaign.SlaClock.choices, help_text="How the SLA is counted."
    )
    breaches = serializers.IntegerField(help_text="SLA breaches (level 1) applied in the range.")
    total = ResponseFiguresSerializer(help_text="The whole campaign over the range.")
    per_rep = RepResponseSerializer(many=True, help_text="Per current owner, most leads first.")
    breaches_per_day = DayBreachesSerializer(many=True, help_text="Over the chart's days (as spend_per_day).")


class CampaignNumbersSerializer(serializers.Serializer):
    """The schema of ``numbers_data`` (the answer is built by that function, not by this class)."""

    days = serializers.IntegerField()
    time_zone = serializers.CharField(help_text="BUSINESS_TIME_ZONE, the zone days are counted in.")
    total = serializers.IntegerField()
    won = serializers.IntegerField()
    conversion = serializers.FloatField(allow_null=True, help_text="won / total, 0 to 1; null without leads.")
    per_day = DayLeadsSerializer(many=True)
    by_status = StatusLeadsSerializer(many=True)
    per_rep = RepNumbersSerializer(many=True)
    # ad loop: the range's money figures (FiguresSerializer's fields at the top level)
    since = serializers.DateField(allow_null=True)
    until = serializers.DateField(allow_null=True)
    currency = serializers.CharField(
        help_text="The ad account's currency; 'mixed' for several, '' without spend."
    )
    spend = serializers.CharField()
    leads = serializers.IntegerField(help_text="Leads created in the range (equals total).")
    cost_per_lead = serializers.CharField(allow_null=True, help_text=MONEY_HELP)
    qualified = serializers.IntegerField()
    cost_per_won = serializers.CharField(allow_null=True, help_text=MONEY_HELP)
    revenue = serializers.CharField()
    roas = serializers.FloatField(allow_null=True, help_text="revenue / spend; null without spend.")
    impressions = serializers.IntegerField()
    clicks = serializers.IntegerField()
    conversations = serializers.IntegerField()
    per_ad = AdFiguresSerializer(many=True)
    spend_per_day = DaySpendSerializer(many=True, help_text="Spend and leads per day, over the chart's days.")
    by_country = CountryLeadsSerializer(many=True)
    by_city = CityLeadsSerializer(many=True)
    response = ResponseNumbersSerializer(
        help_text="First response times, the share within the SLA, breaches and unanswered leads."
    )


def ratio(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def numbers_data(numbers: CampaignNumbers, *, days: int, time_zone: str) -> dict[str, Any]:
    """``services.campaign_stats`` output as JSON: conversion as a 0-1 ratio, None without leads."""
    return {
        "days": days,
        "time_zone": time_zone,
        "total": numbers.total,
        "won": numbers.won,
        "conversion": ratio(numbers.conversion),
        "per_day": [{"day": day.isoformat(), "leads": n} for day, n in numbers.per_day],
        "by_status": [{"status": value, "label": label, "leads": n} for value, label, n in numbers.by_status],
        "per_rep": [
            {
                "owner_id": rep.owner_id,
                "name": rep.name,
                "leads": rep.leads,
                "open": rep.open,
                "won": rep.won,
                "conversion": ratio(rep.conversion),
            }
            for rep in numbers.per_rep
        ],
    }


def _figures_data(figures: ResponseFigures) -> dict[str, Any]:
    return {
        "leads": figures.leads,
        "answered": figures.answered,
        "median_seconds": figures.median_seconds,
        "p90_seconds": figures.p90_seconds,
        "average_seconds": None if figures.average_seconds is None else round(figures.average_seconds, 1),
        "median_business_seconds": figures.median_business_seconds,
        "p90_business_seconds": figures.p90_business_seconds,
        "average_business_seconds": None
        if figures.average_business_seconds is None
        else round(figures.average_business_seconds, 1),
        "within_sla": figures.within_sla or 0,
        "judged": figures.judged or 0,
        "within_sla_share": ratio(figures.within_sla_share),
        "unanswered": figures.unanswered,
        "breached_leads": figures.breached_leads,
    }


def response_data(numbers: ResponseNumbers) -> dict[str, Any]:
    """``services.response_stats`` output as JSON: seconds, ratios 0-1, null where undefined."""
    return {
        "sla_seconds": None if numbers.sla is None else int(numbers.sla.total_seconds()),
        "sla_clock": numbers.clock,
        "breaches": numbers.breaches,
        "total": _figures_data(numbers.total),
        "per_rep": [
            {"owner_id": rep.owner_id, "name": rep.name, **_figures_data(rep.figures)}
            for rep in numbers.per_rep
        ],
        "breaches_per_day": [{"day": day.isoformat(), "breaches": n} for day, n in numbers.breaches_per_day],
    }


class ErasureSerializer(serializers.Serializer):
    """The audit record of an erasure: no personal data, only what went."""

    id = serializers.IntegerField(read_only=True)
    lead_id_erased = serializers.IntegerField(read_only=True, help_text="The anonymised lead's id.")
    erased_at = serializers.DateTimeField(read_only=True)
    erased_by_label = serializers.CharField(read_only=True, help_text="Username of who asked for it.")
    trigger = serializers.CharField(read_only=True)
    reason = serializers.CharField(read_only=True)
    counts = serializers.DictField(
        child=serializers.IntegerField(), read_only=True, help_text="Rows per kind."
    )


class ErasureRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=500,
        required=False,
        help_text="Why (kept in the audit record); write no personal data. Default: 'Requested through the API'.",
    )
