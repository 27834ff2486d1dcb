from .campaigns import Ad, AdSet, Campaign, CampaignMember
from .conversations import Conversation, Message, StatusUpdate
from .conversions import ConversionEvent
from .history import LeadHistory
from .leads import Lead, LeadAssignment
from .spend import AdSpend
from .webhooks import AccountEvent, WebhookEvent

__all__ = [
    "AccountEvent",
    "Ad",
    "AdSpend",
    "AdSet",
    "Campaign",
    "CampaignMember",
    "Conversation",
    "ConversionEvent",
    "Lead",
    "LeadAssignment",
    "LeadHistory",
    "Message",
    "StatusUpdate",
    "WebhookEvent",
]
