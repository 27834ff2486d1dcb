"""The business's clock: its time zone, its days, and when each member is on duty.

Working hours are written as a manager says them ("Monday to Friday, 09:30 to 18:00", "nights,
22:00 to 06:00") in the business's time zone, wherever the server runs. A shift belongs to the
day it starts on, so a night shift that starts on Friday runs into Saturday morning even when
Saturday is not a working day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from django.utils import timezone

from ...conf import app_settings
from ...models import CampaignMember

# A shift that starts within the next week or so; days beyond cannot be the next one.
_LOOK_AHEAD_DAYS = 8


def business_time_zone() -> tzinfo:
    """``WHATSAPP_LEADS["BUSINESS_TIME_ZONE"]``, else Django's ``TIME_ZONE``."""
    name = app_settings.BUSINESS_TIME_ZONE
    return ZoneInfo(name) if name else timezone.get_default_timezone()


def day_bounds(at: datetime, *, tz: tzinfo) -> tuple[datetime, datetime]:
    """Start of the business day containing ``at`` and start of the next one (aware datetimes)."""
    day = at.astimezone(tz).date()
    return _at(day, time.min, tz), _at(day + timedelta(days=1), time.min, tz)


def _at(day: date, moment: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, moment).replace(tzinfo=tz)


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """Days (ISO weekdays, empty = every day) and a daily shift (``None`` ends = midnight)."""

    days: frozenset[int] = frozenset()
    start: time | None = None
    end: time | None = None

    @classmethod
    def of(cls, member: CampaignMember) -> WorkingHours:
        days = frozenset(int(d) for d in (member.work_days or "") if d in "1234567")
        return cls(days=days, start=member.work_start, end=member.work_end)

    @property
    def always(self) -> bool:
        """No days and no times: on duty around the clock."""
        return not self.days and self.start is None and self.end is None

    def shift(self, day: date, *, tz: tzinfo) -> tuple[datetime, datetime] | None:
        """The shift that starts on ``day``, or None when ``day`` is not a working day."""
        if self.days and day.isoweekday() not in self.days:
            return None
        start = _at(day, self.start or time.min, tz)
        if self.end is None or self.end <= (self.start or time.min):
            end_day = day + timedelta(days=1)  # until midnight, or a night shift into the next day
            end = _at(end_day, self.end or time.min, tz)
        else:
            end = _at(day, self.end, tz)
        return start, end

    def next_on_duty(self, at: datetime, *, tz: tzinfo) -> datetime | None:
        """``at`` itself when on duty then; else when the next shift starts (None: no working day)."""
        if self.always:
            return at
        today = at.astimezone(tz).date()
        # Yesterday's night shift may still be running; shifts follow each other day by day.
        for offset in range(-1, _LOOK_AHEAD_DAYS):
            bounds = self.shift(today + timedelta(days=offset), tz=tz)
            if bounds is None or bounds[1] <= at:
                continue
            return at if bounds[0] <= at else bounds[0]
        return None

    def on_duty(self, at: datetime, *, tz: tzinfo) -> bool:
        return self.next_on_duty(at, tz=tz) == at
