"""WhatsApp through Twilio: form-encoded webhooks signed with ``X-Twilio-Signature``, the Messages API.

Not enabled by default; a host adds ``"whatsapp_leads.providers.twilio.TwilioProvider"`` to
``WHATSAPP_LEADS["PROVIDERS"]``. Twilio's field names and quirks live in this folder only.
"""

from .provider import TwilioProvider

__all__ = ["TwilioProvider"]
