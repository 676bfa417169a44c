"""The SDK models behind the binding's native Anthropic views (`AnthropicEventDecoder`'s events).

The views answer attribute reads natively; their conversions (`model_dump`, `to_dict`, ...) call
`build` here, which makes the SDK's own model from the same JSON with the SDK's `construct_type`,
as the SDK does for a stream event, so the conversions equal the SDK's by construction.
"""

from __future__ import annotations

from typing import Any

from .._fastsse import (
    InputJSONDelta,
    InputJsonEvent,
    RawContentBlockDeltaEvent,
    SignatureDelta,
    SignatureEvent,
    TextDelta,
    TextEvent,
    ThinkingDelta,
    ThinkingEvent,
)

__all__ = ["NATIVE_VIEWS", "build"]

#: Every native view class (their names are the SDK classes they are shaped after).
NATIVE_VIEWS: tuple[type, ...] = (
    RawContentBlockDeltaEvent,
    TextDelta,
    InputJSONDelta,
    ThinkingDelta,
    SignatureDelta,
    TextEvent,
    ThinkingEvent,
    InputJsonEvent,
    SignatureEvent,
)

_CLASSES: dict[str, type] = {}


def _sdk_classes() -> dict[str, type]:
    if not _CLASSES:
        from anthropic.lib.streaming import _types as helper_events
        from anthropic.types import (
            InputJSONDelta,
            RawContentBlockDeltaEvent,
            SignatureDelta,
            TextDelta,
            ThinkingDelta,
        )

        for cls in (
            RawContentBlockDeltaEvent,
            TextDelta,
            InputJSONDelta,
            ThinkingDelta,
            SignatureDelta,
            helper_events.TextEvent,
            helper_events.ThinkingEvent,
            helper_events.InputJsonEvent,
            helper_events.SignatureEvent,
        ):
            _CLASSES[cls.__name__] = cls
    return _CLASSES


def build(name: str, raw: dict[str, Any]) -> Any:
    """The SDK's own model of class `name` for `raw`, built the way the SDK builds stream events."""
    from anthropic._models import construct_type

    return construct_type(value=raw, type_=_sdk_classes()[name])
