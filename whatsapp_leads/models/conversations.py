"""Conversations, messages and the status history of our outbound messages."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from ..storage import private_media_storage
from .engagement import ResponseMetrics


class Conversation(ResponseMetrics):
    """A lead's thread with one of our business phone numbers."""

    lead = models.ForeignKey(
        "whatsapp_leads.Lead", on_delete=models.CASCADE, related_name="conversations", help_text="The lead."
    )
    provider = models.CharField(
        max_length=20, default="meta", help_text="The provider this thread runs through (PROVIDERS name)."
    )
    phone_number_id = models.CharField(max_length=64, help_text="Our business number's Cloud API id.")
    display_phone_number = models.CharField(max_length=32, blank=True, help_text="Our number as displayed.")
    waba_id = models.CharField(max_length=64, blank=True, help_text="WhatsApp Business Account id.")
    started_at = models.DateTimeField(null=True, blank=True, help_text="Meta's time of the first message.")
    last_message_at = models.DateTimeField(
        null=True, blank=True, help_text="Meta's time of the latest message."
    )
    last_inbound_at = models.DateTimeField(
        null=True, blank=True, help_text="Latest message from the user: opens the 24-hour service window."
    )
    free_entry_point_expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="End of the 72-hour free entry point a reply to a Click-to-WhatsApp ad opened "
        "(every message, templates included, is free until then); empty when none applies.",
    )
    awaiting_reply_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Time of the earliest inbound message in the thread nobody has answered; empty when we "
        "spoke last.",
    )
    first_reply_at = models.DateTimeField(
        null=True, blank=True, help_text="Time of our first answer in the thread written by a person."
    )
    last_reply_at = models.DateTimeField(
        null=True, blank=True, help_text="Time of our latest answer in the thread written by a person."
    )
    message_count = models.PositiveIntegerField(default=0, help_text="Messages stored in the thread.")
    inbound_count = models.PositiveIntegerField(default=0, help_text="Messages the user sent.")
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the row was created.")

    class Meta:
        ordering = ["-last_message_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "phone_number_id"], name="wl_conversation_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.lead} via {self.display_phone_number or self.phone_number_id}"


class Message(models.Model):
    """One WhatsApp message, inbound or outbound; ``wamid`` makes redelivery a no-op."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        READ = "read", "Read"
        PLAYED = "played", "Played"
        FAILED = "failed", "Failed"

    class SendState(models.TextChoices):
        """Where an outbound message is in our outbox (empty for inbound and echoed messages)."""

        NONE = "", "Not ours to send"
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Being sent"
        RETRYING = "retrying", "Waiting to retry"
        ACCEPTED = "accepted", "Accepted by WhatsApp"
        REFUSED = "refused", "Refused by WhatsApp"
        UNKNOWN = "unknown", "Delivery unknown"

    class MediaStatus(models.TextChoices):
        NONE = "", "No media"
        PENDING = "pending", "Waiting for download"
        DOWNLOADED = "downloaded", "Downloaded"
        FAILED = "failed", "Download failed"
        EXPIRED = "expired", "Deleted after the retention period"

    wamid = models.CharField(max_length=255, unique=True, help_text="Meta's message id (wamid.…).")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", help_text="The thread."
    )
    direction = models.CharField(max_length=8, choices=Direction.choices, help_text="Who sent it.")
    type = models.CharField(max_length=32, help_text="Meta's message type; unknown types kept as sent.")
    text = models.TextField(blank=True, help_text="One readable line for lists and transcripts.")
    timestamp = models.DateTimeField(db_index=True, help_text="Meta's time for the message.")
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.RECEIVED,
        help_text="Inbound: received. Outbound: furthest status reached (never moves back).",
    )
    status_timestamp = models.DateTimeField(null=True, blank=True, help_text="Meta's time of that status.")
    sent_at = models.DateTimeField(null=True, blank=True, help_text="Meta's time of 'sent'.")
    delivered_at = models.DateTimeField(null=True, blank=True, help_text="Meta's time of 'delivered'.")
    read_at = models.DateTimeField(null=True, blank=True, help_text="Meta's time of 'read'.")
    failed_at = models.DateTimeField(null=True, blank=True, help_text="Meta's time of 'failed'.")
    error_code = models.CharField(max_length=32, blank=True, help_text="Meta's error code when failed.")
    error_title = models.CharField(max_length=500, blank=True, help_text="Meta's error title when failed.")
    error_message = models.TextField(blank=True, help_text="Meta's error message when failed.")
    error_details = models.TextField(blank=True, help_text="Meta's error details when failed.")
    biz_opaque_callback_data = models.CharField(
        max_length=512, blank=True, help_text="Our tracking string, echoed back by Meta on statuses."
    )
    error_words = models.TextField(
        blank=True, help_text="What a failure means for the rep, in plain words (from the provider's table)."
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Outbound: the person who asked for the send; empty for automatic sends and echoes.",
    )
    origin = models.CharField(
        max_length=16,
        blank=True,
        help_text="Outbound: who wrote it: rep, greeting, api, echo (sent from the WhatsApp Business app).",
    )
    content = models.JSONField(
        default=dict,
        blank=True,
        help_text="Outbound: what was asked for, in the outbox's own shape (kind and its fields).",
    )
    send_state = models.CharField(
        max_length=10,
        choices=SendState.choices,
        blank=True,
        db_index=True,
        help_text="Outbound: where the send is in our outbox; 'unknown' needs a person to decide on a resend.",
    )
    send_attempts = models.PositiveSmallIntegerField(default=0, help_text="Outbound: HTTP attempts so far.")
    send_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="Outbound: when the send state last changed (the sweep's clock)."
    )
    media_id = models.CharField(max_length=128, blank=True, help_text="Media asset id, for media messages.")
    media_mime_type = models.CharField(max_length=128, blank=True, help_text="Media MIME type.")
    media_sha256 = models.CharField(
        max_length=128, blank=True, help_text="Meta's base64 SHA-256 of the file; checked on download."
    )
    media_caption = models.TextField(blank=True, help_text="Caption the user typed under the media.")
    media_filename = models.CharField(max_length=255, blank=True, help_text="Document file name as sent.")
    media_file = models.FileField(
        upload_to="whatsapp_leads/media/%Y/%m/",
        storage=private_media_storage,  # a callable: the migration keeps its path, not a directory
        max_length=500,
        blank=True,
        help_text="The downloaded file, in the private MEDIA_STORAGE (Meta's media URLs expire); "
        "served only through the lead's admin page.",
    )
    media_size = models.PositiveBigIntegerField(null=True, blank=True, help_text="Downloaded size in bytes.")
    media_status = models.CharField(
        max_length=12,
        choices=MediaStatus.choices,
        blank=True,
        help_text="Download progress; empty for messages without media.",
    )
    media_error = models.TextField(blank=True, help_text="Why the last download attempt failed.")
    media_attempts = models.PositiveSmallIntegerField(default=0, help_text="Download attempts so far.")
    media_downloaded_at = models.DateTimeField(null=True, blank=True, help_text="When the file was stored.")
    reply_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replies",
        help_text="The message this one replies or reacts to, once we have it.",
    )
    reply_to_wamid = models.CharField(
        max_length=255,
        blank=True,
        db_index=True,
        help_text="wamid of the message replied or reacted to, kept even when we never stored it.",
    )
    forwarded = models.BooleanField(default=False, help_text="The user forwarded it (5 times or less).")
    frequently_forwarded = models.BooleanField(
        default=False, help_text="Forwarded more than 5 times: likely a chain message."
    )
    referred_product = models.JSONField(
        default=dict, blank=True, help_text="Catalog product the user asked about (catalog and product ids)."
    )
    details = models.JSONField(
        default=dict,
        blank=True,
        help_text="Kind-specific facts in our own words: location, shared contacts, order lines, reply ids.",
    )
    errors = models.JSONField(
        default=list,
        blank=True,
        help_text="Errors Meta attached (unsupported messages): code, title, details.",
    )
    form_response = models.JSONField(
        default=dict,
        blank=True,
        help_text="All answers of a WhatsApp Flow form, parsed from its JSON string.",
    )
    flow_token = models.CharField(
        max_length=255, blank=True, help_text="The Flow's token: tells which form the answers belong to."
    )
    form_error = models.TextField(blank=True, help_text="Why the form answers could not be read or applied.")
    referral = models.JSONField(default=dict, blank=True, help_text="Click-to-WhatsApp referral, if any.")
    ctwa_clid = models.CharField(max_length=512, blank=True, help_text="Click id from the referral.")
    payload = models.JSONField(default=dict, help_text="The message object exactly as received.")
    webhook_event = models.ForeignKey(
        "whatsapp_leads.WebhookEvent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The webhook that first delivered it.",
    )
    created_at = models.DateTimeField(auto_now_add=True, help_text="When we stored it.")

    class Meta:
        ordering = ["timestamp", "id"]
        indexes = [models.Index(fields=["conversation", "timestamp"], name="wl_message_conv_time")]

    def __str__(self) -> str:
        return f"{self.direction} {self.type} {self.wamid}"


class StatusUpdate(models.Model):
    """Every status Meta reported for an outbound message, kept even before the message is known.

    ``Message.status`` is the forward-only projection of these rows; a status that arrives before
    its message waits here (``message`` empty) and is applied when the message appears.
    """

    wamid = models.CharField(max_length=255, help_text="The message it reports on.")
    message = models.ForeignKey(
        Message,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="status_updates",
        help_text="The message, once known.",
    )
    status = models.CharField(max_length=16, help_text="sent, delivered, read, played, failed or unknown.")
    timestamp = models.DateTimeField(help_text="Meta's time of the status.")
    recipient_id = models.CharField(max_length=160, blank=True, help_text="Recipient phone or user id.")
    error_code = models.CharField(max_length=32, blank=True, help_text="Error code, when failed.")
    error_title = models.CharField(max_length=500, blank=True, help_text="Error title, when failed.")
    error_message = models.TextField(blank=True, help_text="Error message, when failed.")
    error_details = models.TextField(blank=True, help_text="Error details, when failed.")
    pricing_category = models.CharField(
        max_length=64, blank=True, help_text="What Meta charges it as: marketing, utility, service, ..."
    )
    pricing_type = models.CharField(
        max_length=64, blank=True, help_text="regular, free_customer_service or free_entry_point."
    )
    pricing_model = models.CharField(max_length=16, blank=True, help_text="PMP (per message) or CBP (old).")
    billable = models.BooleanField(
        null=True, blank=True, help_text="Whether Meta bills it (deprecated by Meta)."
    )
    conversation_id = models.CharField(
        max_length=128, blank=True, help_text="Meta's pricing conversation id."
    )
    conversation_origin = models.CharField(
        max_length=64,
        blank=True,
        help_text="What opened that conversation: marketing, service, referral_conversion, ...",
    )
    conversation_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="When Meta's pricing conversation window ends."
    )
    biz_opaque_callback_data = models.CharField(
        max_length=512, blank=True, help_text="Our tracking string from the send, echoed back by Meta."
    )
    payload = models.JSONField(default=dict, help_text="The status object as received.")
    applied = models.BooleanField(default=False, help_text="Whether it has been applied to its message.")
    created_at = models.DateTimeField(auto_now_add=True, help_text="When we stored it.")

    class Meta:
        ordering = ["timestamp", "id"]
        constraints = [
            models.UniqueConstraint(fields=["wamid", "status"], name="wl_status_unique_per_message")
        ]
        # By wamid: the unique constraint's index; the reports still waiting for their message
        # (the only ones looked up by wamid alone), a partial index, which a report stored
        # applied never enters.
        indexes = [models.Index(fields=["wamid"], name="wl_status_waiting", condition=Q(applied=False))]

    def __str__(self) -> str:
        return f"{self.wamid} {self.status}"
