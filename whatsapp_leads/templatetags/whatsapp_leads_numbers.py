"""Filters for the response-time screens: durations as people read them (``45 s``, ``7 min``,
``3 h 5 min``, ``2 d 4 h``) and ratios as percentages, ``-`` where a figure is undefined."""

from __future__ import annotations

from datetime import timedelta

from django import template

register = template.Library()


def human_seconds(seconds: float | int | None) -> str:
    """``-`` for no figure; seconds under a minute, then minutes, hours and days, at a glance."""
    if seconds is None:
        return "-"
    whole = max(int(round(seconds)), 0)
    if whole < 60:
        return f"{whole} s"
    minutes = whole // 60
    if minutes < 60:
        rest = whole % 60
        return f"{minutes} min {rest} s" if minutes < 10 and rest else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@register.filter
def wl_duration(value: timedelta | float | int | None) -> str:
    if isinstance(value, timedelta):
        return human_seconds(value.total_seconds())
    return human_seconds(value)


@register.filter
def wl_percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"
