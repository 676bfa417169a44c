"""openai-harmony (the Harmony oracle in tests and benches) without a download: its o200k
vocabulary file is the one the `tiktoken-rs` crate ships, which the build already fetched."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def vocabulary_dir() -> Path | None:
    """The folder of o200k_base.tiktoken inside the tiktoken-rs crate in the cargo registry."""
    try:
        meta = subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--offline", "--features", "harmony-tokens"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    for package in json.loads(meta.stdout)["packages"]:
        if package["name"] == "tiktoken-rs":
            assets = Path(package["manifest_path"]).parent / "assets"
            if (assets / "o200k_base.tiktoken").is_file():
                return assets
    return None


def load_encoding() -> tuple[Any, Any] | str:
    """(openai_harmony, its gpt-oss encoding), or why it cannot be had here."""
    try:
        import openai_harmony  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return "openai-harmony is not installed"
    assets = vocabulary_dir()
    if assets is None:
        return "the tiktoken-rs crate (o200k_base vocabulary) is not in the cargo registry"
    before = os.environ.get("TIKTOKEN_ENCODINGS_BASE")
    os.environ["TIKTOKEN_ENCODINGS_BASE"] = str(assets)  # read at load time only
    try:
        encoding = openai_harmony.load_harmony_encoding(openai_harmony.HarmonyEncodingName.HARMONY_GPT_OSS)
    finally:
        if before is None:
            os.environ.pop("TIKTOKEN_ENCODINGS_BASE", None)
        else:
            os.environ["TIKTOKEN_ENCODINGS_BASE"] = before
    return openai_harmony, encoding
