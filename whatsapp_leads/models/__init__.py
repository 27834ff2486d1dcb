from .campaigns import Ad, AdSet, Campaign, CampaignMember
from .conversations import Conversation, Message, StatusUpdate
from .conversions import ConversionEvent
from .engagement import SlaBreach
from .history import LeadHistory
from .leads import Inbox, Lead, LeadAssignment
from .privacy import ErasureRecord
from .spend import AdSpend
from .templates import MessageTemplate, SendRateWindow
from .webhooks import AccountEvent, WebhookEvent
from .workspace import LeadNote, LeadStatusChange

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
    "Inbox",
    "Lead",
    "LeadAssignment",
    "LeadHistory",
    "LeadNote",
    "LeadStatusChange",
    "Message",
    "MessageTemplate",
    "SendRateWindow",
    "SlaBreach",
    "StatusUpdate",
    "WebhookEvent",
]
