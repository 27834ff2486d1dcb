from .campaigns import Ad, AdSet, Campaign, CampaignMember
from .conversations import Conversation, Message, StatusUpdate
from .history import LeadHistory
from .leads import Lead, LeadAssignment
from .privacy import ErasureRecord
from .templates import MessageTemplate, SendRateWindow
from .webhooks import AccountEvent, WebhookEvent

__all__ = [
    "AccountEvent",
    "Ad",
    "AdSet",
    "Campaign",
    "CampaignMember",
    "Conversation",
    "ErasureRecord",
    "Lead",
    "LeadAssignment",
    "LeadHistory",
    "Message",
    "MessageTemplate",
    "SendRateWindow",
    "StatusUpdate",
    "WebhookEvent",
]
