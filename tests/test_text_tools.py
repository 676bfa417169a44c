"""Every case of the corpus in tests/data/text, fed whole, one character at a time and at
random split points: identical aggregates, the expected ones, and a well-formed stream."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.splits import at_points
from text_support import aggregate, all_cases, check_expect, check_shape, make_parser, run

CASES = all_cases()
IDS = [case_id for case_id, _, _ in CASES]


@pytest.mark.parametrize(("case_id", "config", "case"), CASES, ids=IDS)
def test_whole(case_id: str, config: dict[str, Any], case: dict[str, Any]) -> None:
    chunks = run(config, [case["input"]])
    check_shape(chunks)
    check_expect(aggregate(chunks), case["expect"])


@pytest.mark.parametrize(("case_id", "config", "case"), CASES, ids=IDS)
def test_char_by_char(case_id: str, config: dict[str, Any], case: dict[str, Any]) -> None:
    chunks = run(config, list(case["input"]))
    check_shape(chunks)
    check_expect(aggregate(chunks), case["expect"])


@pytest.mark.parametrize(("case_id", "config", "case"), CASES, ids=IDS)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_splits(
    case_id: str, config: dict[str, Any], case: dict[str, Any], data: st.DataObject
) -> None:
    text = case["input"]
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=12), label="cuts")
    chunks = run(config, at_points(text, cuts))
    check_shape(chunks)
    check_expect(aggregate(chunks), case["expect"])


STREAMING = [(case_id, config, case) for case_id, config, case in CASES if "streams" in case["expect"]]


@pytest.mark.parametrize(("case_id", "config", "case"), STREAMING, ids=[c[0] for c in STREAMING])
def test_long_values_stream_as_they_arrive(
    case_id: str, config: dict[str, Any], case: dict[str, Any]
) -> None:
    """Fed one character at a time, the output lags the input by at most `max_behind` copies of
    the watched character: a long value is never held until its closing tag."""
    watched, max_behind = case["expect"]["streams"]["char"], case["expect"]["streams"]["max_behind"]
    parser = make_parser(config)
    fed = sent = worst = 0
    for ch in case["input"]:
        fed += ch == watched
        for chunk in parser.decode(ch):
            delta = chunk.tool_call_delta
            arguments = delta.arguments_delta if delta is not None else ""
            sent += (chunk.text_delta + chunk.reasoning_delta + arguments).count(watched)
        worst = max(worst, fed - sent)
    assert worst <= max_behind
