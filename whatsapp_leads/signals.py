"""Signals for the host CRM. All are sent after the transaction commits, never for rolled-back rows.

- ``lead_created(sender=Lead, lead, message)``
- ``lead_assigned(sender=Lead, lead, owner, previous_owner, reason)``
- ``message_received(sender=Message, message, lead)``
- ``message_status_changed(sender=Message, message, status, previous_status)``
- ``account_event_received(sender=AccountEvent, event)``
"""

from django.dispatch import Signal

lead_created = Signal()
lead_assigned = Signal()
message_received = Signal()
message_status_changed = Signal()
account_event_received = Signal()
