"""gpt-oss Harmony through the Python binding: the corpus (tests/data/text/harmony.json) is run by
test_text_tools.py with every split; here the parts only Harmony has: the format names, token ids
(`decode_tokens`), and openai-harmony's own parser as an oracle on the same streams."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fastsse
import pytest
from harmony_vocabulary import load_encoding
from text_support import aggregate, load_cases

DATA = Path(__file__).parent / "data"
CORPUS = load_cases(DATA / "text" / "harmony.json")
TOKENS: dict[str, list[int]] = json.loads((DATA / "harmony" / "tokens.json").read_text())["tokens"]


def test_harmony_is_a_tool_format_and_a_reasoning_format() -> None:
    assert "harmony" in fastsse.TextParser.TOOL_FORMATS
    assert "harmony" in fastsse.TextParser.REASONING_FORMATS
    text = "<|channel|>analysis<|message|>A.<|end|><|start|>assistant<|channel|>final<|message|>B."
    both = {"tools": "harmony", "reasoning": "harmony"}
    for options in ({"tools": "harmony"}, {"reasoning": "harmony"}, both):
        parser = fastsse.TextParser(**options)
        got = aggregate(parser.decode(text) + parser.flush())
        assert (got["reasoning"], got["text"]) == ("A.", "B."), options


def test_harmony_does_not_mix_with_other_formats() -> None:
    with pytest.raises(ValueError, match="harmony"):
        fastsse.TextParser(tools="hermes", reasoning="harmony")
    with pytest.raises(ValueError, match="harmony"):
        fastsse.TextParser(tools="harmony", reasoning="think")


def test_malformed_header_is_an_error_chunk_not_an_exception() -> None:
    parser = fastsse.TextParser(tools="harmony")
    text = "<|channel|>commentary to=functions.a to=functions.b<|message|>{}<|call|>"
    chunks = parser.decode(text) + parser.flush()
    errors = [c for c in chunks if c.error_code]
    assert [c.error_code for c in errors] == ["harmony_header_invalid"]
    message = errors[0].error_message or ""
    assert "two recipients" in message and "character 0" in message
    long_header = "<|channel|>final " + "x" * 600 + "<|message|>ok"
    parser = fastsse.TextParser(tools="harmony")
    chunks = parser.decode(long_header) + parser.flush()
    assert "limit of 512 bytes" in (next(c for c in chunks if c.error_code).error_message or "")
    assert aggregate(chunks)["text"] == "ok"


def test_token_ids_from_openai_harmony_test_data() -> None:
    # openai/harmony test_simple_reasoning_response: analysis, then final.
    parser = fastsse.TextParser(tools="harmony")
    got = aggregate(parser.decode_tokens(TOKENS["test_simple_reasoning_response"]) + parser.flush())
    assert got["reasoning"] == 'User asks: "What is 2 + 2?" Simple arithmetic. Provide answer.'
    assert got["text"] == "2 + 2 = 4."
    # One id at a time gives the same; the call there is addressed to `lookup_weather` (no
    # `functions.` namespace), which is a built-in tool's message: reasoning.
    parser = fastsse.TextParser(tools="harmony")
    chunks = [c for token in TOKENS["test_simple_tool_call"] for c in parser.decode_tokens([token])]
    got = aggregate(chunks + parser.flush())
    assert got["calls"] == []
    assert got["reasoning"].endswith('lookup_weather tool.{"location": "Tokyo"}')


def test_token_ids_split_inside_a_character() -> None:
    # "🦀" is three ids (its bytes split across them); a dangling first byte becomes U+FFFD.
    crab = [4103, 99, 222]
    parser = fastsse.TextParser(tools="harmony")
    chunks = [c for token in [200005, 17196, 200008, *crab] for c in parser.decode_tokens([token])]
    assert aggregate(chunks + parser.flush())["text"] == "🦀"
    parser = fastsse.TextParser(tools="harmony")
    chunks = parser.decode_tokens([200005, 17196, 200008, *crab[:2]]) + parser.flush()
    assert aggregate(chunks)["text"] == "\ufffd"
    with pytest.raises(ValueError, match="not in the gpt-oss"):
        fastsse.TextParser(tools="harmony").decode_tokens([10**7])


# --- openai-harmony as an oracle -------------------------------------------------------------


@pytest.fixture(scope="module")
def oracle() -> tuple[Any, Any]:
    loaded = load_encoding()
    if isinstance(loaded, str):
        pytest.skip(loaded)
    return loaded


def _oracle_view(openai_harmony: Any, encoding: Any, ids: list[int]) -> dict[str, Any] | None:
    """openai-harmony's StreamableParser fed one id at a time, sorted the way fastsse sorts."""
    parser = openai_harmony.StreamableParser(encoding, role=openai_harmony.Role.ASSISTANT)
    # Given the role, it expects what follows the prompt's `<|start|>assistant` (as engines use it).
    if ids[:2] == encoding.encode("<|start|>assistant", allowed_special="all"):
        ids = ids[2:]
    try:
        for token in ids:
            parser.process(token)
        parser.process_eos()
    except Exception:  # a stream the oracle rejects is not compared
        return None
    view: dict[str, Any] = {"text": "", "reasoning": "", "calls": []}
    for message in parser.messages:
        content = "".join(part.text for part in message.content)
        recipient = message.recipient or ""
        if recipient.startswith("<|constrain|>"):
            # openai-harmony reads a lone content type (`final <|constrain|>json`) as the
            # recipient; it is a content type, and the message is the answer.
            recipient = ""
        if recipient.startswith("functions."):
            try:
                arguments = json.loads(content)
            except ValueError:  # not JSON: fastsse says so in an error chunk, not compared
                return None
            view["calls"].append((recipient.removeprefix("functions."), arguments))
        elif recipient or message.channel == "analysis":
            view["reasoning"] += content
        else:
            view["text"] += content
    return view


def test_same_result_as_openai_harmony(oracle: Any) -> None:
    openai_harmony, encoding = oracle
    compared = []
    for case_id, config, case in CORPUS:
        if config.get("stop") or case["expect"]["errors"] or case.get("oracle_differs"):
            continue
        ids = encoding.encode(case["input"], allowed_special="all")
        expected = _oracle_view(openai_harmony, encoding, ids)
        if expected is None:
            continue
        parser = fastsse.TextParser(tools="harmony")
        chunks = [c for token in ids for c in parser.decode_tokens([token])] + parser.flush()
        got = aggregate(chunks)
        mine = {
            "text": got["text"],
            "reasoning": got["reasoning"],
            "calls": [(call["name"], json.loads(call["arguments"])) for call in got["calls"]],
        }
        assert mine == expected, case_id
        compared.append(case_id)
    assert len(compared) >= 20, compared
