"""Meta's WhatsApp Cloud API. Meta's field names appear in this folder and nowhere else."""

from .provider import MetaProvider

__all__ = ["MetaProvider"]
