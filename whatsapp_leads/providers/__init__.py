"""Messaging providers behind one interface (``base.Provider``), chosen by ``WHATSAPP_LEADS["PROVIDERS"]``."""
