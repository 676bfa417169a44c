"""Which formats a model writes, from its name: `formats_for_model`, `TextParser.for_model` and
`fastsse serve --model` choosing the formats when --tools / --reasoning are not given."""

from __future__ import annotations

import argparse

import fastsse
import pytest
from fastsse import TextParser, formats_for_model
from fastsse.cli import build_parser, serve_formats


@pytest.mark.parametrize(
    ("name", "formats"),
    [
        ("Qwen/Qwen3-Coder-30B-A3B-Instruct", ("qwen3-coder", None)),
        ("QWEN3-CODER-480B-A35B-INSTRUCT", ("qwen3-coder", None)),
        ("Qwen/Qwen3-8B", ("hermes", "think")),
        ("unsloth/Qwen3.5-35B-A3B-GGUF", ("qwen3-coder", "qwen3")),
        ("deepseek-ai/DeepSeek-R1-0528", ("deepseek-v3", "deepseek-r1")),
        ("deepseek-ai/DeepSeek-V3.1-Terminus", ("deepseek-v3.1", None)),
        ("zai-org/GLM-4.5-Air", ("glm-4.5", "glm-4.5")),
        ("moonshotai/Kimi-K2-Thinking", ("kimi-k2", "kimi-k2")),
        ("MiniMaxAI/MiniMax-M2.5", ("minimax-m2", "minimax-m2")),
        ("mistralai/Devstral-Small-2507", ("mistral", None)),
        ("meta-llama/Llama-3.3-70B-Instruct", ("llama3-json", None)),
        ("llama3.1:8b", ("llama3-json", None)),
        ("ibm-granite/granite-3.3-8b-instruct", ("granite", "granite")),
        ("ibm-granite/granite-4.0-h-small", ("hermes", None)),
        ("google/gemma-4-31b-it", ("gemma4", "gemma4")),
        ("CohereLabs/c4ai-command-r7b-12-2024", ("cohere", "cohere")),
        ("openai/gpt-oss-20b", ("harmony", "harmony")),
        ("gpt-4o-mini", (None, None)),
    ],
)
def test_formats_for_model(name: str, formats: tuple[str | None, str | None]) -> None:
    assert formats_for_model(name) == formats
    assert fastsse.formats_for_model is formats_for_model


def test_for_model_builds_the_model_formats() -> None:
    parser = TextParser.for_model("Qwen/Qwen3-8B")
    chunks = (
        parser.decode('<think>plan</think><tool_call>{"name": "f", "arguments": {}}</tool_call>')
        + parser.flush()
    )
    assert "".join(c.reasoning_delta for c in chunks) == "plan"
    assert [c.tool_call_delta.function_name for c in chunks if c.tool_call_delta] == ["f"]


def test_for_model_options_override() -> None:
    parser = TextParser.for_model("Qwen/Qwen3-8B", reasoning=None, stop=["END"])
    chunks = parser.decode("<think>x</think>a END b") + parser.flush()
    assert "".join(c.text_delta for c in chunks) == "<think>x</think>a "
    # Custom markers replace the model's named reasoning format.
    parser = TextParser.for_model("Qwen/Qwen3-8B", reasoning_end=["Answer:"])
    chunks = parser.decode("r Answer: t") + parser.flush()
    assert "".join(c.reasoning_delta for c in chunks) == "r "


def test_for_model_unknown_name_is_a_plain_parser() -> None:
    parser = TextParser.for_model("my-own-model")
    chunks = parser.decode("<think>a</think>") + parser.flush()
    assert "".join(c.text_delta for c in chunks) == "<think>a</think>"


def test_every_named_format_is_registered_or_pending() -> None:
    # `harmony` is registered by the Harmony parser; until then the gpt-oss row is skipped.
    for name in ["Qwen/Qwen3-8B", "zai-org/GLM-4.7", "moonshotai/Kimi-K2.5", "openai/gpt-oss-120b"]:
        tools, reasoning = formats_for_model(name)
        if "harmony" in (tools, reasoning) and "harmony" not in TextParser.TOOL_FORMATS:
            continue
        TextParser.for_model(name)


def serve_args(*extra: str) -> argparse.Namespace:
    return build_parser().parse_args(["serve", *extra])


def test_serve_picks_the_formats_of_its_model() -> None:
    assert serve_formats(serve_args("--model", "deepseek-ai/DeepSeek-R1")) == ("deepseek-v3", "deepseek-r1")
    # Explicit options win; '' turns a format off.
    args = serve_args("--model", "deepseek-ai/DeepSeek-R1", "--tools", "hermes", "--reasoning", "")
    assert serve_formats(args) == ("hermes", None)
    # The replay engine's default model keeps the replay format.
    assert serve_formats(serve_args()) == ("hermes", "think")
