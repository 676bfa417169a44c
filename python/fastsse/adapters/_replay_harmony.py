"""The replay engine's answers as gpt-oss writes them: Harmony messages instead of Hermes tags.

The built-in responder (``_replay_script``) writes ``<think>…</think>`` then prose or
``<tool_call>`` blocks; for a gpt-oss model the same answer becomes the ``analysis`` channel,
one ``commentary to=functions.NAME <|constrain|>json`` message per call, or the ``final``
channel. Generation starts after the prompt's ``<|start|>assistant``, so the first message has
no ``<|start|>`` of its own, and it ends without its stop token (``<|call|>`` / ``<|return|>``),
as engines hand it over.
"""

from __future__ import annotations

import json
import re

from .._fastsse import formats_for_model

__all__ = ["harmony_from_hermes", "is_harmony_model"]

_REASONING = re.compile(r"<think>\n(.*?)\n</think>\n\n", re.DOTALL)
_CALL = re.compile(r"<tool_call>\n(.*?)\n</tool_call>", re.DOTALL)


def is_harmony_model(model: str | None) -> bool:
    """Whether ``model`` writes Harmony (``formats_for_model``: the gpt-oss family)."""
    return model is not None and formats_for_model(model)[0] == "harmony"


def harmony_from_hermes(text: str) -> str:
    """The Harmony text for the replay responder's Hermes-shaped ``text``."""
    messages: list[tuple[str, str]] = []  # (channel and recipient, content), with its end marker
    reasoning = _REASONING.match(text)
    if reasoning:
        messages.append(("analysis<|message|>" + reasoning.group(1), "<|end|>"))
        text = text[reasoning.end() :]
    calls = [json.loads(block) for block in _CALL.findall(text)]
    for call in calls:
        arguments = json.dumps(call["arguments"], ensure_ascii=False)
        header = f"commentary to=functions.{call['name']} <|constrain|>json"
        messages.append((f"{header}<|message|>{arguments}", "<|call|>"))
    if not calls:
        messages.append(("final<|message|>" + text, "<|return|>"))
    written = "<|start|>assistant".join(f"<|channel|>{body}{end}" for body, end in messages)
    return written.removesuffix(messages[-1][1])
