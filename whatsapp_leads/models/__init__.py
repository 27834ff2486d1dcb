from .campaigns import Ad, AdSet, Campaign, CampaignMember
from .conversations import Conversation, Message, StatusUpdate
from .history import LeadHistory
from .leads import Inbox, Lead, LeadAssignment
from .templates import MessageTemplate, SendRateWindow
from .webhooks import AccountEvent, WebhookEvent
from .workspace import LeadNote, LeadStatusChange

__all__ = [
    "AccountEvent",
    "Ad",
    "AdSet",
    "Campaign",
    "CampaignMember",
    "Conversation",
    "Inbox",
    "Lead",
    "LeadAssignment",
    "LeadHistory",
    "LeadNote",
    "LeadStatusChange",
    "Message",
    "MessageTemplate",
    "SendRateWindow",
    "StatusUpdate",
    "WebhookEvent",
]
