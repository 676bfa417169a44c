"""tests/data/text/bug_reports.json is what the family table in tests/text_families.py gives."""

from __future__ import annotations

import text_families


def test_the_generated_cases_are_current() -> None:
    assert text_families.OUT.read_text(encoding="utf-8") == text_families.render(), (
        "run: python tests/text_families.py"
    )


def test_every_tool_format_has_a_family() -> None:
    import fastsse

    assert {f.tools for f in text_families.FAMILIES} == set(fastsse.TextParser.TOOL_FORMATS) - {"harmony"}
