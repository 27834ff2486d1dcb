# Placeholder so the default WHATSAPP_LEADS["PROVIDERS"] imports (and manage.py check passes) on
# this branch; the lead's whatsapp_leads/providers/meta/ package replaces this file at merge.

from ..base import Provider


class MetaProvider(Provider):
    name = "meta"
