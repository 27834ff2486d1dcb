"""Signals for the host CRM. All are sent after the transaction commits, never for rolled-back rows.

- ``lead_created(sender=Lead, lead, message)``
- ``lead_assigned(sender=Lead, lead, owner, previous_owner, reason)``
- ``message_received(sender=Message, message, lead)``
- ``message_status_changed(sender=Message, message, status, previous_status)``
- ``account_event_received(sender=AccountEvent, event)``
- ``message_sent(sender=Message, message)``: the provider accepted an outbound message (it has its wamid)
- ``message_failed(sender=Message, message, code, words)``: the provider refused it (now or by a failed status)
- ``lead_merged(sender=Lead, lead, merged_lead_id)``: a duplicate lead was folded into ``lead`` and deleted
- ``lead_erased(sender=Lead, lead, record)``: the person's data was erased (``lead`` is the anonymised
  row, ``record`` the ``ErasureRecord``); erase the host's own rows about ``lead.pk`` too
- ``sla_breached(sender=Lead, lead, breach)``: nobody answered ``lead`` within its campaign's
  first-response SLA; ``breach`` is the ``SlaBreach`` row (``level``: 1 the breach, 2 the managers'
  escalation; ``action``: notified, escalated, reassigned or nobody; ``owner``, ``new_owner``,
  ``sla``, ``due_at``). Sent once per breach, after the checker's batch commits.
"""

from django.dispatch import Signal

lead_created = Signal()
lead_assigned = Signal()
message_received = Signal()
message_status_changed = Signal()
account_event_received = Signal()
lead_merged = Signal()
message_sent = Signal()
message_failed = Signal()
lead_erased = Signal()
sla_breached = Signal()
