"""Conversions back to Meta: which stages map to which events (``mapping``), the outbox that
records each (lead, event) once (``outbox``), and the send that delivers one row (``send``)."""
