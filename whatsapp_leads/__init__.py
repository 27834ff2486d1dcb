"""whatsapp_leads: Click-to-WhatsApp conversations become attributed, assigned sales leads."""

__version__ = "0.1.0"
