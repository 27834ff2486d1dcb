"""HTTP clients for Meta's Graph APIs (Marketing API reads, Cloud API media).

``GraphClient`` talks HTTP; ``GraphAPIError`` is the one exception it raises (``GraphNotConfigured``
when no token is set); ``marketing`` turns ad, ad set and campaign answers into dataclasses.
"""

from .client import GraphClient, configured_token, configured_version, is_configured
from .errors import GraphAPIError, GraphNotConfigured
from .versions import Api

__all__ = [
    "Api",
    "GraphAPIError",
    "GraphClient",
    "GraphNotConfigured",
    "configured_token",
    "configured_version",
    "is_configured",
]
