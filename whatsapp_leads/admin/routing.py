"""Admin pieces for routing rules: the member row a manager edits, and what it says about now.

Working days are stored as weekday digits ("12345") so the database stays simple; a manager ticks
days instead of typing digits.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import OuterRef

from ..models import CampaignMember

WEEKDAYS = [("1", "Mon"), ("2", "Tue"), ("3", "Wed"), ("4", "Thu"), ("5", "Fri"), ("6", "Sat"), ("7", "Sun")]


class WeekdaysField(forms.MultipleChoiceField):
    """Ticked weekdays <-> the digits stored in ``CampaignMember.work_days``."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("max_length", None)
        kwargs.pop("empty_value", None)
        super().__init__(choices=WEEKDAYS, required=False, **kwargs)

    def prepare_value(self, value: Any) -> list[str]:
        if isinstance(value, str):
            return list(value)
        return list(value or [])

    def to_python(self, value: Any) -> list[str]:
        # An empty string (a form posted back as text) means no day ticked, not an invalid day.
        return [v for v in super().to_python(value) if v]

    def clean(self, value: Any) -> str:
        return "".join(sorted(set(super().clean(value))))

    def has_changed(self, initial: Any, data: Any) -> bool:
        return "".join(sorted(self.prepare_value(initial))) != "".join(sorted(self.to_python(data)))


class CampaignMemberForm(forms.ModelForm):
    work_days = WeekdaysField(
        label="Work days", help_text="None ticked: every day. Hours are the business's time zone."
    )

    class Meta:
        model = CampaignMember
        fields = "__all__"  # noqa: DJ007  (the admin picks the fields: every member setting shows up)


def with_assigned_today(queryset: Any, *, now: Any, tz: Any) -> Any:
    """Members annotated with today's lead count from their campaign (for the state column)."""
    from ..services.routing.eligibility import assigned_today

    return queryset.annotate(assigned_today=assigned_today(now=now, tz=tz, campaign=OuterRef("campaign_id")))
