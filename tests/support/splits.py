"""Ways of cutting one input into network chunks; every decoder must give the same output
(`decode_all` feeds a decoder the pieces)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol, TypeVar

T = TypeVar("T", bytes, str)
Item = TypeVar("Item")
Item_co = TypeVar("Item_co", covariant=True)


class Decoder(Protocol[Item_co]):
    def decode(self, data: Any, /) -> Iterable[Item_co]: ...

    def flush(self) -> Iterable[Item_co]: ...


def decode_all(decoder: Decoder[Item], pieces: Iterable[Any]) -> list[Item]:
    """What `decoder` makes of `pieces` fed in order, then of its flush."""
    out: list[Item] = []
    for piece in pieces:
        out.extend(decoder.decode(piece))
    out.extend(decoder.flush())
    return out


def whole(data: T) -> list[T]:
    return [data]


def one_at_a_time(data: T) -> list[T]:
    return [data[i : i + 1] for i in range(len(data))]


def with_leading_empty(data: T) -> list[T]:
    return [data[:0], data, data[:0]]


def all_two_way_splits(data: T) -> Iterator[list[T]]:
    for cut in range(len(data) + 1):
        yield [data[:cut], data[cut:]]


def at_points(data: T, points: Iterable[int]) -> list[T]:
    """`data` cut at each point taken modulo `len(data) + 1` (so any non-negative integers
    from a strategy are valid cuts); repeated points give no empty middle pieces."""
    cuts = sorted({p % (len(data) + 1) for p in points})
    pieces, start = [], 0
    for cut in cuts:
        pieces.append(data[start:cut])
        start = cut
    pieces.append(data[start:])
    return pieces
