"""Reading a Hugging Face response template for ``TextParser.from_response_template``.

A template arrives as a dict, as JSON text, or as a path to a ``tokenizer_config.json`` (or to the
checkpoint directory that holds one). This module only turns it into JSON text; the Rust core
finds the ``response_template`` in it and compiles the markers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from .errors import ResponseTemplateError

__all__ = ["MAX_CONFIG_BYTES", "template_json"]

#: Largest tokenizer config read (some carry their whole added-token table).
MAX_CONFIG_BYTES = 64 << 20


def template_json(template: object) -> str:
    """The JSON text of a template given as a dict, JSON text or a path."""
    if isinstance(template, Mapping):
        return json.dumps(dict(template), ensure_ascii=False)
    if isinstance(template, str) and template.lstrip().startswith("{"):
        return template
    if isinstance(template, (str, os.PathLike)):
        path = Path(template)
        if path.is_dir():
            path = path / "tokenizer_config.json"
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ResponseTemplateError(
                f"{path} is {size} bytes, over the limit of {MAX_CONFIG_BYTES} bytes for a tokenizer config",
                field=None,
                key=None,
            )
        return path.read_text(encoding="utf-8")
    raise TypeError(
        "template must be a dict, JSON text, or a path to a tokenizer_config.json or its directory; "
        f"got {type(template).__name__}"
    )
