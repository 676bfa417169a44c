"""The `fastsse` command: `cat` prints events live and a speed figure; `demo` runs offline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "fastsse", *args], input=stdin, capture_output=True, timeout=60, check=False
    )


def test_cat_file_prints_every_event_and_a_speed_figure() -> None:
    result = run("cat", str(DATA / "sse" / "openai-chat-text.sse"), "--chunk-size", "5")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 34 and lines[-1] == "message: [DONE]"
    assert b"34 events" in result.stderr and b"ns/event" in result.stderr


def test_cat_stdin_ndjson() -> None:
    result = run("cat", "-", "--ndjson", stdin=(DATA / "ndjson" / "ollama-chat-stream.ndjson").read_bytes())
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 22
