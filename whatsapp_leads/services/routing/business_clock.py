"""Business time: seconds counted only while the lead's owner is on duty.

Managers judge a reply by the owner's working hours: a message sent at 23:00 and answered at
09:05 the next working morning was five minutes late, not ten hours. The owner's hours are their
``CampaignMember`` row in the lead's campaign (``WorkingHours``), in ``BUSINESS_TIME_ZONE``; an
owner without a member row, or a member without hours, is on duty around the clock, so business
time equals wall-clock time for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from ...models import CampaignMember
from .hours import WorkingHours, business_time_zone

# A span longer than this is counted by whole weeks first (a week of shifts is always the same
# length), so a lead answered after a year costs a few dozen iterations, not hundreds.
_WEEK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class BusinessClock:
    """One person's working hours in the business time zone."""

    hours: WorkingHours
    tz: tzinfo

    @classmethod
    def around_the_clock(cls) -> BusinessClock:
        return cls(hours=WorkingHours(), tz=business_time_zone())

    def _has_working_day(self) -> bool:
        return not self.hours.days or any(1 <= d <= 7 for d in self.hours.days)

    def _shifts(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Shifts that end after ``since``, in order (yesterday's night shift included)."""
        day = since.astimezone(self.tz).date() - timedelta(days=1)
        while True:
            bounds = self.hours.shift(day, tz=self.tz)
            if bounds is not None and bounds[1] > since:
                yield bounds
            day += timedelta(days=1)

    def _week_seconds(self, start: datetime) -> float:
        total = 0.0
        end = start + _WEEK
        for shift_start, shift_end in self._shifts(start):
            if shift_start >= end:
                break
            total += (min(shift_end, end) - max(shift_start, start)).total_seconds()
        return total

    def seconds_between(self, start: datetime, end: datetime) -> int:
        """Business seconds from ``start`` to ``end`` (0 when ``end`` is not later)."""
        if end <= start:
            return 0
        if self.hours.always:
            return int((end - start).total_seconds())
        if not self._has_working_day():
            return 0  # never on duty
        total = 0.0
        weeks = (end - start) // _WEEK
        if weeks > 1:
            total += self._week_seconds(start) * (weeks - 1)
            start += _WEEK * (weeks - 1)
        for shift_start, shift_end in self._shifts(start):
            if shift_start >= end:
                break
            total += (min(shift_end, end) - max(shift_start, start)).total_seconds()
        return int(total)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of business time after ``start`` has passed.

        Time off duty does not count: ten business minutes from 17:55 with a 09:00-18:00 shift
        end at 09:05 the next working day.
        """
        if self.hours.always or duration <= timedelta(0) or not self._has_working_day():
            return start + duration
        left = duration
        for shift_start, shift_end in self._shifts(start):
            begin = max(shift_start, start)
            available = shift_end - begin
            if left <= available:
                return begin + left
            left -= available
        raise AssertionError("unreachable: _shifts never ends")  # pragma: no cover


def clock_for(*, campaign_id: int | None, owner_id: Any) -> BusinessClock:
    """The owner's clock in the campaign (one query; around the clock without a member row)."""
    tz = business_time_zone()
    if campaign_id is None or owner_id is None:
        return BusinessClock(hours=WorkingHours(), tz=tz)
    member = (
        CampaignMember.objects.filter(campaign_id=campaign_id, user_id=owner_id)
        .only("work_days", "work_start", "work_end")
        .first()
    )
    return BusinessClock(hours=WorkingHours.of(member) if member else WorkingHours(), tz=tz)
