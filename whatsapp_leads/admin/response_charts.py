"""The data the response-time charts draw (``static/whatsapp_leads/admin/numbers_charts.js`` with the
vendored Chart.js), as plain lists for ``json_script``: minutes, not seconds, and ``None`` (a gap)
where a figure is undefined. The tables beside the charts show the same figures in words."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..services.response_stats import ResponseNumbers


def minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def response_charts(response: ResponseNumbers) -> dict[str, Any]:
    business = response.clock != "wall"
    reps = [r for r in response.per_rep if r.figures.answered]
    return {
        "clock": "business" if business else "wall-clock",
        "reps": {
            "labels": [r.name for r in reps],
            "median": [
                minutes(r.figures.median_business_seconds if business else r.figures.median_seconds)
                for r in reps
            ],
            "p90": [
                minutes(r.figures.p90_business_seconds if business else r.figures.p90_seconds) for r in reps
            ],
        },
        "breaches": per_day(response.breaches_per_day),
    }


def per_day(points: list[tuple[date, int]]) -> dict[str, list[Any]]:
    return {"labels": [f"{day:%d %b}" for day, _ in points], "counts": [n for _, n in points]}
