"""tests/data/text/bug_reports.json is what the family table in tests/text_families.py gives."""

from __future__ import annotations

import itertools

import pytest
import text_families
from hypothesis import given, settings
from hypothesis import strategies as st
from support.splits import at_points
from text_support import aggregate, check_shape, run, without_ids


def test_the_generated_cases_are_current() -> None:
    assert text_families.OUT.read_text(encoding="utf-8") == text_families.render(), (
        "run: python tests/text_families.py"
    )


def test_every_tool_format_has_a_family() -> None:
    import fastsse

    assert {f.tools for f in text_families.FAMILIES} == set(fastsse.TextParser.TOOL_FORMATS)


FAMILIES = text_families.FAMILIES


def fragments(family: text_families.Family) -> list[str]:
    """Pieces of the family's markup, reasoning markers and plain text, to shuffle."""
    opener, closer, _ = text_families.REASONING[family.reasoning]
    call = family.calls([("get_weather", "Paris")])
    cuts = sorted({0, len(call) // 3, len(call) // 2, 2 * len(call) // 3, len(call)})
    return [
        opener,
        closer,
        family.opener(),
        call,
        *(call[a:b] for a, b in itertools.pairwise(cuts)),
        "a",
        " ",
        "\n",
    ]


@pytest.mark.parametrize("family", FAMILIES, ids=[f.tools for f in FAMILIES])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_any_mix_of_markup_is_split_invariant(family: text_families.Family, data: st.DataObject) -> None:
    text = "".join(data.draw(st.lists(st.sampled_from(fragments(family)), max_size=8)))
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=8))
    config = {"tools": family.tools, "reasoning": family.reasoning}
    whole = run(config, [text])
    check_shape(whole)
    expected = without_ids(aggregate(whole))
    for pieces in (list(text), at_points(text, cuts)):
        chunks = run(config, pieces)
        check_shape(chunks)
        assert without_ids(aggregate(chunks)) == expected
