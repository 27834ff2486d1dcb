"""Where the person is (the design document's "location, if available").

In order of trust: a location the person shared (its name, address and coordinates) or the city
they typed into a WhatsApp Flow, whichever came last; without either, what ``phonenumbers``
derives from the number: the country always, the city for a landline (Pune, for +91 20 ...) and the
carrier for a mobile (Airtel). ``Lead.location["source"]`` says which ("shared_location", "flow"
or "phone"); ``Lead.country`` is the number's country (a shared pin carries none).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumberType, carrier, geocoder

from ..models import Lead
from .fitting import fit
from .phones import parsed

SHARED, FLOW, PHONE = "shared_location", "flow", "phone"
LANDLINES = (PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
MOBILES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def from_number(phone: str) -> tuple[str, dict[str, Any]]:
    """(country, location) that the number alone tells; ("", {}) for no readable number."""
    try:
        number = parsed(phone or "", None)  # read once with ``to_e164``
    except phonenumbers.NumberParseException:
        return "", {}
    country = phonenumbers.region_code_for_number(number) or ""
    if not country or country == "001":  # 001: non-geographic numbers
        return "", {}
    kind = phonenumbers.number_type(number)
    where: dict[str, Any] = {"source": PHONE}
    if kind in LANDLINES:
        place = geocoder.description_for_number(number, "en", region=country)
        # A landline's area is a city ("Pune, Maharashtra", "New Delhi"); a number that may be either
        # is trusted only when it names more than a state ("San Francisco, CA", not "California").
        if place and (kind == PhoneNumberType.FIXED_LINE or "," in place):
            where["city"] = place.split(",")[0].strip()
            where["area"] = place
    if kind in MOBILES:
        name = carrier.name_for_number(number, "en")
        if name:
            where["carrier"] = name
    return country, where


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(Decimal(str(value)))
    except (ArithmeticError, ValueError):
        return None


def fill_from_number(lead: Lead) -> list[str]:
    """Set what the number tells on a lead (not saved: a new lead gets it in its INSERT)."""
    country, where = from_number(lead.phone)
    fields: list[str] = []
    if country and not lead.country:
        lead.country = country
        fields.append("country")
    if where and not lead.location:
        lead.location = where
        fields.append("location")
        if where.get("city") and not lead.city:
            lead.city = fit(Lead, "city", where["city"])
            fields.append("city")
    return fields


def note_shared_location(lead: Lead, details: dict[str, Any]) -> bool:
    """A location message: its pin becomes the lead's location. True when one was stored."""
    latitude, longitude = _number(details.get("latitude")), _number(details.get("longitude"))
    if latitude is None or longitude is None or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return False
    where = {"source": SHARED, "latitude": latitude, "longitude": longitude}
    for key in ("name", "address"):
        if details.get(key):
            where[key] = str(details[key])[:500]
    if lead.location.get("city") and lead.location.get("source") == FLOW:
        where["city"] = lead.location["city"]  # what they typed stays beside the pin
    lead.location = where
    lead.save(update_fields=["location", "updated_at"])
    return True


def note_flow_city(lead: Lead) -> bool:
    """A Flow set the lead's city: it is where the person says they are."""
    if not lead.city:
        return False
    previous = lead.location if isinstance(lead.location, dict) else {}
    where = {"source": FLOW, "city": lead.city}
    if previous.get("source") == SHARED:
        where = {**previous, "city": lead.city}  # the pin stays; the typed city joins it
    lead.location = where
    lead.save(update_fields=["location", "updated_at"])
    return True
