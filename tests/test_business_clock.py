"""Business time: only the owner's shifts count, in the business time zone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from whatsapp_leads.services.routing.business_clock import BusinessClock
from whatsapp_leads.services.routing.hours import WorkingHours

IST = ZoneInfo("Asia/Kolkata")
OFFICE = BusinessClock(
    hours=WorkingHours(days=frozenset({1, 2, 3, 4, 5}), start=time(9), end=time(18)), tz=IST
)
NIGHTS = BusinessClock(hours=WorkingHours(start=time(22), end=time(6)), tz=IST)
ALWAYS = BusinessClock(hours=WorkingHours(), tz=IST)


def ist(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=IST)  # 23 Nov 2026 is a Monday


@pytest.mark.parametrize(
    ("start", "end", "seconds"),
    [
        (ist(24, 10), ist(24, 11), 3600),  # inside a shift
        (ist(24, 17, 55), ist(25, 9, 5), 600),  # over a night
        (ist(27, 17, 50), ist(30, 9, 10), 1200),  # over a weekend
        (ist(28, 10), ist(29, 10), 0),  # Saturday to Sunday: nobody works
        (ist(24, 7), ist(24, 8), 0),  # before the shift
        (ist(23, 9), ist(30, 9), 5 * 9 * 3600),  # a whole week
        (ist(24, 11), ist(24, 10), 0),  # backwards
    ],
)
def test_seconds_between_count_only_office_hours(start, end, seconds):
    assert OFFICE.seconds_between(start, end) == seconds


def test_a_long_span_is_counted_by_whole_weeks_exactly():
    start = ist(24, 12)
    assert OFFICE.seconds_between(start, start + timedelta(weeks=52)) == 52 * 5 * 9 * 3600
    assert OFFICE.seconds_between(start, start + timedelta(weeks=3, hours=2)) == 3 * 45 * 3600 + 7200


def test_a_night_shift_runs_past_midnight():
    assert NIGHTS.seconds_between(ist(24, 23), ist(25, 7)) == 7 * 3600
    assert NIGHTS.add(ist(24, 12), timedelta(minutes=10)) == ist(24, 22, 10)
    assert NIGHTS.add(ist(25, 5, 55), timedelta(minutes=10)) == ist(25, 22, 5)


@pytest.mark.parametrize(
    ("start", "duration", "due"),
    [
        (ist(24, 10), timedelta(minutes=10), ist(24, 10, 10)),
        (ist(24, 17, 55), timedelta(minutes=10), ist(25, 9, 5)),  # the rest falls in the next shift
        (ist(27, 17, 55), timedelta(minutes=10), ist(30, 9, 5)),  # Friday evening: Monday morning
        (ist(28, 12), timedelta(hours=1), ist(30, 10)),  # on a Saturday
        (ist(24, 10), timedelta(hours=9), ist(25, 10)),  # a whole shift's worth
    ],
)
def test_add_counts_the_sla_over_shifts(start, duration, due):
    assert OFFICE.add(start, duration) == due
    assert OFFICE.seconds_between(start, due) == duration.total_seconds()


def test_around_the_clock_is_the_wall_clock():
    assert ALWAYS.seconds_between(ist(28, 10), ist(29, 10)) == 86400
    assert ALWAYS.add(ist(28, 10), timedelta(minutes=5)) == ist(28, 10, 5)
    assert BusinessClock.around_the_clock().hours.always
