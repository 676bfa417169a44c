"""An object that answers like the SDK object it wraps, except for the attributes it overrides."""

from __future__ import annotations

from typing import Any

__all__ = ["Forward"]


class Forward:
    """`Forward(target, name=value, ...)`: `name` reads `value`; any other attribute reads `target`'s."""

    def __init__(self, target: Any, **overrides: Any) -> None:
        self.__dict__.update(overrides)
        self._target = target

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)

    def __repr__(self) -> str:
        return f"<fastsse-accelerated {self._target!r}>"
