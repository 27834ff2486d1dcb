# Placeholder so the PROVIDERS system check has something to import on this branch; the lead's
# provider seam (whatsapp_leads/providers/base.py in main) replaces this file at merge.


class Provider:
    name: str = ""
