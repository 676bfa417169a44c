"""The `fastsse` command: `cat` prints events live and a speed figure; `serve` runs the server;
`demo` streams a conversation from a local server, offline."""

from __future__ import annotations

import io
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastsse.cli import main

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


def test_cat_provider_prints_unified_chunks_of_any_framing() -> None:
    for path, provider in (
        (DATA / "anthropic" / "thinking-tool-use.sse", "anthropic"),
        (DATA / "ndjson" / "ollama-chat-stream.ndjson", "ollama"),
        (DATA / "bedrock" / "converse-stream-reasoning-signature.bin", "bedrock"),
    ):
        result = run("cat", str(path), "--provider", provider)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.decode().splitlines()
        assert lines and all(line.startswith("GenerationChunk(") for line in lines), lines[:3]
        assert "done=True" in lines[-1] and b" chunks from " in result.stderr


def test_cat_sniffs_ndjson_and_eventstream_without_flags() -> None:
    ndjson = run("cat", str(DATA / "ndjson" / "ollama-chat-stream.ndjson"))
    assert ndjson.returncode == 0 and len(ndjson.stdout.splitlines()) == 22
    binary = run("cat", str(DATA / "bedrock" / "converse-stream-reasoning-signature.bin"))
    assert binary.returncode == 0, binary.stderr
    assert binary.stdout.splitlines()[0].startswith(b"messageStart: ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cat", "no/such/file.sse"], b"fastsse cat: no/such/file.sse: No such file or directory"),
        (["cat", str(DATA)], b"is a directory"),
        (["cat", "-", "--chunk-size", "0"], b"must be a positive number of bytes"),
    ],
)
def test_cat_reports_bad_input_in_one_line(args: list[str], message: bytes) -> None:
    result = run(*args, stdin=b"")
    assert result.returncode == 2 and message in result.stderr
    assert b"Traceback" not in result.stderr


def test_cat_with_no_event_exits_non_zero_with_a_hint() -> None:
    result = run("cat", "-", stdin=b"hello, this is not an event stream")
    assert result.returncode == 1
    assert b"0 events from 34 bytes" in result.stderr and b"--provider" in result.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_runs_uvicorn_until_stopped() -> None:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fastsse",
            "serve",
            "--port",
            str(port),
            "--model",
            "cli-model",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()[1].decode()
                assert time.monotonic() < deadline, "fastsse serve did not answer"
                time.sleep(0.05)
        assert health.json()["model"] == "cli-model"
        models = httpx.get(f"http://127.0.0.1:{port}/v1/models").json()
        assert [m["id"] for m in models["data"]] == ["cli-model"]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_unknown_command_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["no-such-command"])
    assert caught.value.code == 2


def test_demo_streams_a_conversation_and_reports() -> None:
    from fastsse._demo import run

    out = io.StringIO()
    assert run(rate=2000, color="never", out=out) == 0
    text = out.getvalue()
    assert "tool call ▸ get_weather(" in text and '"city"' in text
    assert "tool ▸ get_weather ->" in text and "answer ▸" in text and "thinking ▸" in text
    assert "\x1b[" not in text  # no escape codes without a terminal
    assert "| openai: tool call |" in text and "| anthropic: answer |" in text
    assert "fastsse parse / chunk" in text


def test_demo_in_a_terminal_serves_the_chat_page_until_ctrl_c() -> None:
    # stdin is a pseudo-terminal, as under `make demo` at a prompt; Ctrl-C reaches the whole
    # foreground process group, so the signal goes to the group the demo leads.
    terminal, demo_side = pty.openpty()
    demo = subprocess.Popen(
        [sys.executable, "-m", "fastsse", "demo", "--rate", "2000", "--color", "never"],
        stdin=demo_side,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    os.close(demo_side)
    try:
        assert demo.stdout is not None
        lines: list[bytes] = []
        deadline = time.monotonic() + 120
        while not lines or b"Serving until Ctrl-C" not in lines[-1]:
            line = demo.stdout.readline()
            assert line and time.monotonic() < deadline, b"".join(lines).decode()
            lines.append(line)
        output = b"".join(lines).decode()
        page_url = re.search(r"The chat page: (http://127\.0\.0\.1:\d+/) ", output)
        assert page_url and "| openai: tool call |" in output, output
        page = httpx.get(page_url.group(1), timeout=10)
        assert page.status_code == 200 and "<title>fastsse chat</title>" in page.text
        time.sleep(0.3)  # still serving
        assert demo.poll() is None
        os.killpg(demo.pid, signal.SIGINT)
        assert demo.wait(timeout=30) == 0
        assert b"stopped" in demo.stdout.read()
    finally:
        os.close(terminal)
        if demo.poll() is None:
            demo.kill()
            demo.wait()
