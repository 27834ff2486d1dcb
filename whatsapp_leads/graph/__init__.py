"""HTTP clients for Meta's Graph APIs (Marketing API reads for now).

``GraphClient`` talks HTTP; ``GraphAPIError`` is the one exception it raises (``GraphNotConfigured``
when no token is set); ``marketing`` turns ad, ad set and campaign answers into dataclasses.
"""

from .client import GraphClient, configured_token, is_configured
from .errors import GraphAPIError, GraphNotConfigured

__all__ = ["GraphAPIError", "GraphClient", "GraphNotConfigured", "configured_token", "is_configured"]
