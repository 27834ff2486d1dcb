"""Charts drawn on the server as inline SVG: no chart library, no CDN, nothing for a browser to fetch.

``{% spend_leads_chart points currency %}`` draws spend per day as bars (left scale) and leads per
day as a line with dots (right scale), each scaled to its own maximum; every bar and dot carries a
``<title>`` with the day's figures, so the chart reads the same with a screen reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

WIDTH, HEIGHT, PAD_X, PAD_TOP, PAD_BOTTOM = 720, 220, 48, 12, 28
SPEND_COLOUR, LEADS_COLOUR = "#79aec8", "#ba2121"


@register.simple_tag
def spend_leads_chart(points: Sequence[tuple[date, Decimal, int]], currency: str = "") -> SafeString:
    if not points:
        return mark_safe("")
    top_spend = max((s for _, s, _ in points), default=Decimal("0")) or Decimal("1")
    top_leads = max((n for *_, n in points), default=0) or 1
    inner_w, inner_h = WIDTH - 2 * PAD_X, HEIGHT - PAD_TOP - PAD_BOTTOM
    step = inner_w / len(points)
    bar_w = max(1.0, step * 0.7)
    base = PAD_TOP + inner_h

    bars, dots, line = [], [], []
    for i, (day, spend, leads) in enumerate(points):
        x = PAD_X + i * step
        h = float(spend / top_spend) * inner_h
        label = (
            f"{day:%d %b %Y}: spend {spend:.2f} {currency}".rstrip()
            + f", {leads} lead{'s' if leads != 1 else ''}"
        )
        bars.append((f"{x + (step - bar_w) / 2:.1f}", f"{base - h:.1f}", f"{bar_w:.1f}", f"{h:.1f}", label))
        cx, cy = x + step / 2, base - (leads / top_leads) * inner_h
        line.append(f"{cx:.1f},{cy:.1f}")
        dots.append((f"{cx:.1f}", f"{cy:.1f}", label))

    first, last = points[0][0], points[-1][0]
    return format_html(
        '<svg class="wl-chart" role="img" viewBox="0 0 {w} {h}" width="100%" preserveAspectRatio="xMidYMid meet" '
        'aria-label="Spend and leads per day, {first} to {last}">'
        '<line x1="{px}" y1="{base}" x2="{right}" y2="{base}" stroke="#999"/>'
        '<text x="{px}" y="{top}" font-size="11" text-anchor="end" dx="-4" dy="4" fill="{sc}">{top_spend}</text>'
        '<text x="{right}" y="{top}" font-size="11" dx="4" dy="4" fill="{lc}">{top_leads}</text>'
        '<text x="{px}" y="{bottom}" font-size="11">{first}</text>'
        '<text x="{right}" y="{bottom}" font-size="11" text-anchor="end">{last}</text>'
        "{bars}"
        '<polyline fill="none" stroke="{lc}" stroke-width="2" points="{line}"/>'
        "{dots}</svg>",
        w=WIDTH, h=HEIGHT, px=PAD_X, right=WIDTH - PAD_X, base=f"{base:.1f}", top=PAD_TOP,
        bottom=HEIGHT - 8, sc=SPEND_COLOUR, lc=LEADS_COLOUR, top_spend=f"{top_spend:.0f} {currency}".strip(),
        top_leads=f"{top_leads} leads", first=f"{first:%d %b}", last=f"{last:%d %b}",
        bars=format_html_join(
            "", '<rect class="wl-spend" x="{}" y="{}" width="{}" height="{}" fill="' + SPEND_COLOUR
            + '"><title>{}</title></rect>', bars,
        ),
        line=" ".join(line),
        dots=format_html_join(
            "", '<circle class="wl-leads" cx="{}" cy="{}" r="3" fill="' + LEADS_COLOUR + '"><title>{}</title></circle>',
            dots,
        ),
    )  # fmt: skip
