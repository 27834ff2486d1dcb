"""Personal data under India's DPDP Act: erasure, access (export) and retention.

- ``erase_lead(lead, reason, by)`` (``erasure``): every trace of one person removed or anonymised.
- ``export_person(lead)`` (``export``): everything stored about them as one JSON document.
- ``apply_retention(...)`` (``retention``): the RETENTION_* settings applied in batches.
- ``find_person(phone=..., wa_id=..., user_id=...)`` (``lookup``): the leads a request names.

``docs/privacy.md`` says what is stored where, for how long, and how to answer a request.
"""

from .erasure import AlreadyErased, erase_lead
from .export import export_json, export_person
from .lookup import find_person

__all__ = ["AlreadyErased", "erase_lead", "export_json", "export_person", "find_person"]
