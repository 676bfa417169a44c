"""TextParser.from_response_template: the ways a template arrives (dict, JSON text, a tokenizer
config file or its directory), the caller's options next to the template's own markers, and the
typed refusals. What each template parses to is in the corpus (tests/data/text/response_template.json,
run whole, char by char and at random splits by test_text_tools.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fastsse
import pytest
from fastsse import _response_template

DATA = Path(__file__).parent / "data" / "response_templates"
SMOLLM3 = DATA / "smollm3"
STREAM = (
    "<think>\nweather\n</think>\nChecking.\n"
    '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
    "<|im_end|>\nafter the end"
)


def summary(parser: fastsse.TextParser, text: str) -> tuple[str, str, list[tuple[str, str]], str | None]:
    chunks = [*parser.decode(text), *parser.flush()]
    calls: dict[int, list[str]] = {}
    for chunk in chunks:
        if chunk.tool_call_delta is not None:
            call = calls.setdefault(chunk.tool_call_delta.index, ["", ""])
            call[0] += chunk.tool_call_delta.function_name or ""
            call[1] += chunk.tool_call_delta.arguments_delta
    return (
        "".join(c.text_delta for c in chunks),
        "".join(c.reasoning_delta for c in chunks),
        [(name, args) for name, args in calls.values()],
        chunks[-1].stop_sequence,
    )


def template_dict() -> dict[str, Any]:
    config = json.loads((SMOLLM3 / "tokenizer_config.json").read_text(encoding="utf-8"))
    template: dict[str, Any] = config["response_template"]
    return template


EXPECTED = ("\nChecking.\n", "\nweather\n", [("get_weather", '{"city": "Paris"}')], None)


@pytest.mark.parametrize(
    "given",
    [
        pytest.param(template_dict(), id="dict"),
        pytest.param(json.dumps(template_dict()), id="template JSON text"),
        pytest.param((SMOLLM3 / "tokenizer_config.json").read_text(encoding="utf-8"), id="config JSON text"),
        pytest.param(SMOLLM3 / "tokenizer_config.json", id="file Path"),
        pytest.param(str(SMOLLM3 / "tokenizer_config.json"), id="file str"),
        pytest.param(SMOLLM3, id="checkpoint directory"),
    ],
)
def test_every_way_of_giving_the_template(given: object) -> None:
    parser = fastsse.TextParser.from_response_template(given)
    assert summary(parser, STREAM) == EXPECTED


def test_the_end_of_turn_marker_ends_the_output_but_is_not_the_callers_stop() -> None:
    parser = fastsse.TextParser.from_response_template(SMOLLM3, stop=["Checking"], include_stop=True)
    text, _, calls, stop_sequence = summary(parser, STREAM)
    assert (text, calls, stop_sequence) == ("\nChecking", [], "Checking")
    parser = fastsse.TextParser.from_response_template(SMOLLM3, include_stop=True)
    text, *_, stop_sequence = summary(parser, "Hi<|im_end|>more")
    assert (text, stop_sequence) == ("Hi", None)
    assert parser.stopped


def test_prefix_and_tool_schemas_reach_the_parser() -> None:
    parser = fastsse.TextParser.from_response_template(
        DATA / "qwen3_coder.json",
        prefix="<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n<think>\n",
        tool_schemas=[
            {
                "type": "function",
                "function": {"name": "f", "parameters": {"properties": {"n": {"type": "string"}}}},
            }
        ],
    )
    call = "<tool_call><function=f><parameter=n>7</parameter></function></tool_call>"
    out = summary(parser, f"hm</think>{call}")
    assert out == ("", "hm", [("f", '{"n": "7"}')], None)


def test_refusals_are_typed_and_say_where() -> None:
    with pytest.raises(fastsse.ResponseTemplateError) as caught:
        fastsse.TextParser.from_response_template(
            {"fields": {"tool_calls": {"open": "<c>", "content": "kv-lines"}}}
        )
    assert (caught.value.field, caught.value.key) == ("tool_calls", "content")
    assert isinstance(caught.value, ValueError)
    with pytest.raises(fastsse.ResponseTemplateError) as caught:
        fastsse.TextParser.from_response_template('{"eos_token": "</s>"}')
    assert caught.value.field is None
    with pytest.raises(TypeError, match="tokenizer_config"):
        fastsse.TextParser.from_response_template(42)
    with pytest.raises(FileNotFoundError):
        fastsse.TextParser.from_response_template(DATA / "missing")
    with pytest.raises(ValueError, match="max_buffer_size"):
        fastsse.TextParser.from_response_template(SMOLLM3, max_buffer_size=0)


def test_an_oversized_config_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tokenizer_config.json"
    path.write_text(json.dumps({"response_template": template_dict(), "pad": "x" * 200}), encoding="utf-8")
    monkeypatch.setattr(_response_template, "MAX_CONFIG_BYTES", 100)
    with pytest.raises(fastsse.ResponseTemplateError, match="limit of 100 bytes"):
        fastsse.TextParser.from_response_template(tmp_path)


def test_gpt_oss_compiles_to_harmony_or_says_it_is_missing() -> None:
    path = DATA / "gpt_oss.json"
    if "harmony" in fastsse.TextParser.TOOL_FORMATS:
        fastsse.TextParser.from_response_template(path)
    else:
        with pytest.raises(fastsse.ResponseTemplateError, match="harmony"):
            fastsse.TextParser.from_response_template(path)
