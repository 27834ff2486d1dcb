from .campaigns import Ad, AdSet, Campaign, CampaignMember
from .conversations import Conversation, Message, StatusUpdate
from .conversions import ConversionEvent
from .history import LeadHistory
from .leads import Lead, LeadAssignment
from .privacy import ErasureRecord
from .spend import AdSpend
from .templates import MessageTemplate, SendRateWindow
from .webhooks import AccountEvent, WebhookEvent

__all__ = [
    "AccountEvent",
    "Ad",
    "AdSpend",
    "AdSet",
    "Campaign",
    "CampaignMember",
    "Conversation",
    "ErasureRecord",
    "ConversionEvent",
    "Lead",
    "LeadAssignment",
    "LeadHistory",
    "Message",
    "MessageTemplate",
    "SendRateWindow",
    "StatusUpdate",
    "WebhookEvent",
]
