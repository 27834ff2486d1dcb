from .campaigns import Ad, Campaign, CampaignMember
from .conversations import Conversation, Message, StatusUpdate
from .leads import Lead, LeadAssignment
from .webhooks import AccountEvent, WebhookEvent

__all__ = [
    "AccountEvent",
    "Ad",
    "Campaign",
    "CampaignMember",
    "Conversation",
    "Lead",
    "LeadAssignment",
    "Message",
    "StatusUpdate",
    "WebhookEvent",
]
