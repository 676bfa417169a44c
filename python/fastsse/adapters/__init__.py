"""Generation adapters: the engines a fastsse server drives (seeds/002 contract)."""

from __future__ import annotations

from ._base import GenerationAdapter, GenerationOptions
from .gateway import GatewayAdapter
from .openai_compatible import OpenAICompatibleAdapter
from .replay import GenerationRecord, ReplayAdapter, tokenize

__all__ = [
    "GatewayAdapter",
    "GenerationAdapter",
    "GenerationOptions",
    "GenerationRecord",
    "OpenAICompatibleAdapter",
    "ReplayAdapter",
    "tokenize",
]
