"""Sending messages: the outbox and the rules a send must pass (window, consent, templates, rate).

``outbox.queue_send`` is the one way in for the admin, the API and automatic greetings; it stores
the message before anything leaves, and a Celery task (``queueing.SEND_MESSAGE``) delivers it.
"""
