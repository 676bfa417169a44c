"""The public bug reports of other parsers (issue 8 §3) as cases for every tool format: one row a
format family (how it writes a call, which reasoning format goes with it), seven case shapes,
written out as `tests/data/text/bug_reports.json` and run by both split harnesses
(tests/text_corpus.rs, tests/test_text_tools.py) like any other corpus file.

Run `python tests/text_families.py` after changing the table; `test_text_families.py` checks that
the JSON file is what the table gives.

The shapes: a whole call plus end of stream in one decode(); `</think>` and a call in one delta;
flush("length") inside reasoning; the reasoning end marker inside a string argument; the
family's own marker inside a string argument; an unknown function between known ones; a long
string argument that must stream as it arrives (held back no more than `MAX_BEHIND` characters).
"""

# ruff: noqa: RUF001 (the DeepSeek / Step markers are written with fullwidth bars)
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "data" / "text" / "bug_reports.json"
MAX_BEHIND = 32
LONG = "Q" * 600

# reasoning= name -> (opener as the model writes it, closer, starts inside)
REASONING = {
    "think": ("<think>", "</think>", False),
    "qwen3": ("<think>", "</think>", True),
    "deepseek-r1": ("<think>", "</think>", True),
    "deepseek-v3.1": ("<think>", "</think>", True),
    "deepseek-v3.2": ("<think>", "</think>", True),
    "step3": ("<think>", "</think>", True),
    "olmo3": ("<think>", "</think>", True),
    "ernie45": ("<think>", "</think>", True),
    "glm-4.5": ("<think>", "</think>", False),
    "kimi-k2": ("<think>", "</think>", False),
    "hunyuan": ("<think>", "</think>", False),
    "mistral": ("[THINK]", "[/THINK]", False),
    "seed-oss": ("<seed:think>", "</seed:think>", False),
    "cohere": ("<|START_THINKING|>", "<|END_THINKING|>", False),
    "granite": ("Here is my thought process:", "Here is my response:", False),
    "longcat": ("<longcat_think>", "</longcat_think>", True),
    "gemma4": ("<|channel>thought\n", "<channel|>", False),
    "minimax-m3": ("<mm:think>", "</mm:think>", True),
    "harmony": ("<|channel|>analysis<|message|>", "<|end|>", False),
}

ARGS = '{"city": "VALUE"}'
ENVELOPE = '{"name": "NAME", "arguments": ' + ARGS + "}"
QWEN_XML = "<function=NAME>\n<parameter=city>\nVALUE\n</parameter>\n</function>"
PY_CALL = 'NAME(city="VALUE")'


@dataclass(frozen=True)
class Family:
    """How a format writes calls: `open` + `sep`.join(`call` per call) + `close`, where a call
    has NAME, VALUE (the string argument `city`) and IDX (its index) filled in."""

    tools: str
    reasoning: str
    call: str
    marker: str
    open: str = ""
    sep: str = ""
    close: str = ""
    id: str | None = None

    def opener(self) -> str:
        """The start marker of the format's section."""
        return OPENERS.get(self.tools) or self.open or self.call.split("NAME")[0]

    def calls(self, calls: list[tuple[str, str]]) -> str:
        written = [
            self.call.replace("NAME", name).replace("VALUE", value).replace("IDX", str(n))
            for n, (name, value) in enumerate(calls)
        ]
        return self.open + self.sep.join(written) + self.close


MM = "]<]minimax[>["
DSV3_OPEN, DSV3_CLOSE = "<｜tool▁calls▁begin｜>", "<｜tool▁calls▁end｜>"
FAMILIES = [
    Family("hermes", "think", "<tool_call>\n" + ENVELOPE + "\n</tool_call>", "</tool_call>", sep="\n"),
    Family("qwen3-coder", "qwen3", "<tool_call>\n" + QWEN_XML + "\n</tool_call>", "</tool_call>", sep="\n"),
    Family("qwen3-xml", "qwen3", "<tool_call>\n" + QWEN_XML + "\n</tool_call>", "<tool_call>", sep="\n"),
    Family(
        "seed-oss", "seed-oss", "<seed:tool_call>\n" + QWEN_XML + "\n</seed:tool_call>", "</seed:tool_call>"
    ),
    Family("mistral", "mistral", "[TOOL_CALLS]NAME[ARGS]" + ARGS, "[TOOL_CALLS]"),
    Family(
        "llama3-json",
        "think",
        '{"name": "NAME", "parameters": ' + ARGS + "}",
        "<|python_tag|>",
        open="<|python_tag|>",
        sep="; ",
    ),
    Family("pythonic", "think", PY_CALL, "<|python_end|>", "<|python_start|>[", ", ", "]<|python_end|>"),
    Family(
        "llama4-pythonic", "think", PY_CALL, "]<|python_end|>", "<|python_start|>[", ", ", "]<|python_end|>"
    ),
    Family("olmo3", "olmo3", PY_CALL, "</function_calls>", "<function_calls>", "\n", "</function_calls>"),
    Family("lfm2", "think", PY_CALL, "<|tool_call_end|>", "<|tool_call_start|>[", ", ", "]<|tool_call_end|>"),
    Family(
        "deepseek-v3",
        "deepseek-r1",
        "<｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\n" + ARGS + "\n```<｜tool▁call▁end｜>",
        "<｜tool▁call▁end｜>",
        DSV3_OPEN,
        "",
        DSV3_CLOSE,
    ),
    Family(
        "deepseek-v3.1",
        "deepseek-v3.1",
        "<｜tool▁call▁begin｜>NAME<｜tool▁sep｜>" + ARGS + "<｜tool▁call▁end｜>",
        DSV3_CLOSE,
        DSV3_OPEN,
        "",
        DSV3_CLOSE,
    ),
    Family(
        "deepseek-v3.2",
        "deepseek-v3.2",
        '<｜DSML｜invoke name="NAME">\n<｜DSML｜parameter name="city" string="true">VALUE'
        "</｜DSML｜parameter>\n</｜DSML｜invoke>\n",
        "</｜DSML｜function_calls>",
        "<｜DSML｜function_calls>\n",
        "",
        "</｜DSML｜function_calls>",
    ),
    Family(
        "kimi-k2",
        "kimi-k2",
        "<|tool_call_begin|>functions.NAME:IDX<|tool_call_argument_begin|>" + ARGS + "<|tool_call_end|>",
        "<|tool_call_end|>",
        "<|tool_calls_section_begin|>",
        "",
        "<|tool_calls_section_end|>",
        id="functions.NAME:IDX",
    ),
    Family(
        "glm-4.5",
        "glm-4.5",
        "<tool_call>NAME\n<arg_key>city</arg_key>\n<arg_value>VALUE</arg_value>\n</tool_call>",
        # A `</tool_call>` in a value closes the call: a missing `</arg_value>` is tolerated.
        "<tool_call>",
        sep="\n",
    ),
    Family(
        "glm-4.7",
        "glm-4.5",
        "<tool_call>NAME<arg_key>city</arg_key><arg_value>VALUE</arg_value></tool_call>",
        "<arg_key>",
    ),
    Family(
        "minimax-m2",
        "think",
        '<invoke name="NAME">\n<parameter name="city">VALUE</parameter>\n</invoke>\n',
        "</minimax:tool_call>",
        "<minimax:tool_call>\n",
        "",
        "</minimax:tool_call>",
    ),
    Family(
        "step3",
        "step3",
        '<｜tool_call_begin｜>function<｜tool_sep｜><steptml:invoke name="NAME">\n'
        '<steptml:parameter name="city">VALUE</steptml:parameter>\n</steptml:invoke><｜tool_call_end｜>\n',
        "<｜tool_calls_end｜>",
        "<｜tool_calls_begin｜>\n",
        "",
        "<｜tool_calls_end｜>",
    ),
    Family("granite", "granite", ENVELOPE, "<|tool_call|>", "<|tool_call|>[", ", ", "]"),
    Family("xlam", "think", ENVELOPE, "</tool_call>", "<tool_call>[", ", ", "]</tool_call>"),
    Family(
        "internlm",
        "think",
        '<|action_start|><|plugin|>\n{"name": "NAME", "parameters": ' + ARGS + "}<|action_end|>",
        "<|action_end|>",
        sep="\n",
    ),
    Family("phi4-mini", "think", ENVELOPE, "functools[", "functools[", ", ", "]"),
    Family("jamba", "think", ENVELOPE, "</tool_calls>", "<tool_calls>[", ", ", "]</tool_calls>"),
    Family("hunyuan", "hunyuan", ENVELOPE, "</tool_calls>", "<tool_calls>[", ", ", "]</tool_calls>"),
    Family(
        "longcat",
        "longcat",
        "<longcat_tool_call>" + ENVELOPE + "</longcat_tool_call>",
        "</longcat_tool_call>",
    ),
    Family("ernie45", "ernie45", "<tool_call>\n" + ENVELOPE + "\n</tool_call>", "</tool_call>", sep="\n"),
    Family(
        "cohere",
        "cohere",
        '{"tool_call_id": "IDX", "tool_name": "NAME", "parameters": ' + ARGS + "}",
        "<|END_ACTION|>",
        "<|START_ACTION|>[",
        ", ",
        "]<|END_ACTION|>",
    ),
    Family("gemma4", "gemma4", '<|tool_call>call:NAME{city:<|"|>VALUE<|"|>}<tool_call|>', "<tool_call|>"),
    Family(
        "minimax-m3",
        "minimax-m3",
        f'{MM}<invoke name="NAME">{MM}<city>VALUE{MM}</city>{MM}</invoke>\n',
        # Tags count with the prefix; without it, only the value's own closer does.
        "</tool_call>",
        f"{MM}<tool_call>\n",
        "",
        f"{MM}</tool_call>",
    ),
    Family(
        "harmony",
        "harmony",
        "<|start|>assistant<|channel|>commentary to=functions.NAME <|constrain|>json<|message|>"
        + ARGS
        + "<|call|>",
        "<|call|>",
    ),
]

# Start markers where `open` / the call's text before NAME is not just the marker.
OPENERS = {
    "hermes": "<tool_call>",
    "qwen3-coder": "<tool_call>",
    "qwen3-xml": "<tool_call>",
    "seed-oss": "<seed:tool_call>",
    "mistral": "[TOOL_CALLS]",
    "pythonic": "<|python_start|>",
    "llama4-pythonic": "<|python_start|>",
    "lfm2": "<|tool_call_start|>",
    "deepseek-v3.2": "<｜DSML｜function_calls>",
    "glm-4.5": "<tool_call>",
    "glm-4.7": "<tool_call>",
    "minimax-m2": "<minimax:tool_call>",
    "step3": "<｜tool_calls_begin｜>",
    "granite": "<|tool_call|>",
    "xlam": "<tool_call>",
    "internlm": "<|action_start|><|plugin|>",
    "phi4-mini": "functools",
    "jamba": "<tool_calls>",
    "hunyuan": "<tool_calls>",
    "longcat": "<longcat_tool_call>",
    "ernie45": "<tool_call>",
    "cohere": "<|START_ACTION|>",
    "gemma4": "<|tool_call>",
    "minimax-m3": MM + "<tool_call>",
}

SCHEMAS = [
    {
        "type": "function",
        "function": {
            "name": name,
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
    for name in ("get_weather", "get_time")
]


def expect(
    family: Family,
    calls: list[tuple[str, str]],
    *,
    text: str = "",
    reasoning: str = "",
    finish: str | None = None,
) -> dict[str, Any]:
    expected_calls = []
    for n, (name, value) in enumerate(calls):
        call: dict[str, Any] = {"name": name, "arguments": {"city": value}}
        if family.id:
            call["id"] = family.id.replace("NAME", name).replace("IDX", str(n))
        expected_calls.append(call)
    return {
        "text": text,
        "reasoning": reasoning,
        "calls": expected_calls,
        "errors": [],
        "finish_reason": finish or ("tool_calls" if calls else "stop"),
        "stop_sequence": None,
    }


def family_cases(family: Family) -> list[dict[str, Any]]:
    opener, closer, inside = REASONING[family.reasoning]
    config = {"tools": family.tools, "reasoning": family.reasoning}
    one = [("get_weather", "Paris")]

    def case(name: str, text: str, want: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "name": f"{family.tools}: {name}",
            "config": {**config, **extra},
            "input": text,
            "expect": want,
        }

    before = "Checking. "
    whole = expect(family, one, reasoning=before) if inside else expect(family, one, text=before)
    unknown = [("get_weather", "Paris"), ("lookup_stock", "Rome"), ("get_time", "Oslo")]
    long_case = case(
        "a long string argument streams as it arrives",
        family.calls([("get_weather", LONG)]),
        {**expect(family, [("get_weather", LONG)]), "streams": {"char": "Q", "max_behind": MAX_BEHIND}},
        # Typed as a string: formats that read untyped values as JSON (GLM) stream it too.
        tool_schemas=SCHEMAS,
    )
    in_reasoning = "a" + closer + "b"
    return [
        case("a whole call and the end of the stream in one decode()", before + family.calls(one), whole),
        case(
            "the reasoning end and a call in one delta",
            opener + "plan" + closer + family.calls(one),
            expect(family, one, reasoning="plan"),
        ),
        case(
            'flush("length") inside reasoning keeps it reasoning',
            opener + "still thinking",
            expect(family, [], reasoning="still thinking", finish="length"),
            flush="length",
        ),
        case(
            "the reasoning end marker inside a string argument",
            family.calls([("get_weather", in_reasoning)]),
            expect(family, [("get_weather", in_reasoning)]),
        ),
        case(
            "the format's own marker inside a string argument",
            family.calls([("get_weather", "x" + family.marker + "y")]),
            expect(family, [("get_weather", "x" + family.marker + "y")]),
        ),
        case(
            "an unknown function between known ones",
            family.calls(unknown),
            # Calls that are blocks of their own are separated by answer text.
            expect(family, unknown, text="" if family.open else family.sep * 2),
            tool_schemas=SCHEMAS,
        ),
        long_case,
        case(
            "a call opened inside unclosed reasoning ends the reasoning",
            opener + "plan " + family.calls(one) + "done",
            expect(family, one, text="done", reasoning="plan "),
        ),
        # Harmony's markers are special tokens, never prose: any `<|start|>` is structure.
        *(
            []
            if family.tools == "harmony"
            else [
                case(
                    "prose naming the opener inside reasoning stays reasoning",
                    opener + "I could write " + family.opener() + " is the tag" + closer + "ok",
                    expect(
                        family, [], text="ok", reasoning="I could write " + family.opener() + " is the tag"
                    ),
                ),
            ]
        ),
    ]


def build() -> dict[str, Any]:
    return {
        "description": "Generated by tests/text_families.py: public bug reports of other parsers, "
        "for every tool format.",
        "config": {},
        "cases": [c for family in FAMILIES for c in family_cases(family)],
    }


def render() -> str:
    return json.dumps(build(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    OUT.write_text(render(), encoding="utf-8")
