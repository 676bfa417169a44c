"""Stop strings and hold-back against brute-force models of the semantics, on random text
over a small alphabet (so that partial matches and overlaps are frequent)."""

from __future__ import annotations

from itertools import pairwise

from fastsse import TextParser
from hypothesis import given, settings
from hypothesis import strategies as st

ALPHABET = "ab\n🙂"
stops_strategy = st.lists(st.text(ALPHABET, min_size=1, max_size=4), min_size=1, max_size=4)
text_strategy = st.text(ALPHABET, max_size=40)


def expected_output(text: str, stops: list[str]) -> tuple[str, str | None]:
    """Earliest completion wins; ties go to the first listed."""
    best: tuple[int, int, str] | None = None
    for order, stop in enumerate(stops):
        at = text.find(stop)
        if at >= 0:
            key = (at + len(stop), order, stop)
            if best is None or key < best:
                best = key
    if best is None:
        return text, None
    end, _, stop = best
    return text[: end - len(stop)], stop


def held_back(prefix: str, stops: list[str]) -> int:
    """Length of the longest suffix of `prefix` that is a proper prefix of a stop string."""
    for k in range(min(len(prefix), max(map(len, stops))), 0, -1):
        if any(s.startswith(prefix[-k:]) and len(s) > k for s in stops):
            return k
    return 0


@settings(max_examples=400, deadline=None)
@given(text=text_strategy, stops=stops_strategy, cuts=st.lists(st.integers(0, 40), max_size=6))
def test_stop_semantics(text: str, stops: list[str], cuts: list[int]) -> None:
    bounds = sorted({0, len(text), *(c for c in cuts if c <= len(text))})
    parser = TextParser(stop=stops)
    out = "".join(c.text_delta for a, b in pairwise(bounds) for c in parser.decode(text[a:b]))
    final = parser.flush()
    out += "".join(c.text_delta for c in final)
    want, stop = expected_output(text, stops)
    assert out == want
    assert final[-1].stop_sequence == stop
    assert parser.stopped == (stop is not None)


@settings(max_examples=400, deadline=None)
@given(text=text_strategy, stops=stops_strategy)
def test_holds_back_only_what_can_still_become_a_stop(text: str, stops: list[str]) -> None:
    parser = TextParser(stop=stops)
    out = ""
    for n, ch in enumerate(text, 1):
        out += "".join(c.text_delta for c in parser.decode(ch))
        if parser.stopped:
            break
        prefix = text[:n]
        assert out == prefix[: len(prefix) - held_back(prefix, stops)]
