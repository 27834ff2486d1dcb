"""Admin screens: leads for sales staff, campaigns and ads, and the webhook log.

Importing the modules registers their ``ModelAdmin`` classes with the default admin site.

Who sees what is decided by ordinary Django permissions (give them through Groups; the app ships
no data migration for groups, so each host names its own):

- Sales rep: ``is_staff`` plus ``whatsapp_leads.view_lead`` and ``whatsapp_leads.change_lead``.
  Sees and edits (name, status) only the leads they own; cannot re-assign them.
- Manager: a rep plus ``whatsapp_leads.view_all_leads``. Sees every lead and may change its owner;
  each re-assignment is recorded as a ``LeadAssignment`` and sends ``lead_assigned``.
- Privacy officer / manager: a manager plus ``whatsapp_leads.delete_lead`` may "Export personal data
  (JSON)" and "Erase personal data…" (a confirmation page names what goes). Leads are never deleted
  as rows; the audit of erasures (``ErasureRecord``) is read-only. See docs/privacy.md.
- Campaign admin: the ``campaign``, ``campaignmember`` and ``ad`` model permissions.
- Operator: ``view_webhookevent`` and ``view_accountevent`` to read the webhook log;
  ``change_webhookevent`` to run "Re-process selected events" (the log itself stays read-only).
- Marketing: ``view_conversionevent`` for the Conversions API log, ``change_conversionevent`` to send
  failed events again; ``view_adspend`` for the spend rows.
- Superusers see and may do all of the above.
"""

from . import campaigns, conversions, inbox, leads, privacy, spend, templates, webhooks

__all__ = ["campaigns", "conversions", "inbox", "leads", "privacy", "spend", "templates", "webhooks"]
