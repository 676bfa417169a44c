"""A real headless Chromium driven over the Chrome DevTools Protocol (a websocket, no driver).

``Chromium()`` starts the Debian ``chromium`` binary with a throwaway profile and
``--remote-debugging-port=0``, reads the port it picked from ``DevToolsActivePort`` and opens
the websocket of its first tab. ``call(method, **params)`` sends one command and returns its
result; events that arrive meanwhile are kept in ``events`` (console messages, exceptions,
network requests, once the matching domain is enabled).
"""

from __future__ import annotations

import base64
import itertools
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from websockets.sync.client import ClientConnection, connect

__all__ = ["BrowserError", "Chromium"]


class BrowserError(RuntimeError):
    """Chromium is missing, did not start, or a DevTools command failed."""


class Chromium:
    def __init__(self, *, width: int = 1000, height: int = 800, start_timeout: float = 60.0) -> None:
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if binary is None:
            raise BrowserError("chromium is missing: `make setup` installs it (Debian package chromium)")
        self._profile = tempfile.TemporaryDirectory(prefix="fastsse-chromium-", ignore_cleanup_errors=True)
        profile = Path(self._profile.name)
        arguments = [
            binary,
            "--headless=new",
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-gpu",
            "--disable-dev-shm-usage",  # small /dev/shm in containers
            "--disable-extensions",
            "--disable-background-networking",  # no update checks or other traffic of its own
            "--disable-component-update",
            "--disable-sync",
            "--metrics-recording-only",
            "--mute-audio",
        ]
        if os.geteuid() == 0:  # the sandbox refuses to run as root (CI containers)
            arguments.append("--no-sandbox")
        self._log = open(profile / "chromium.log", "wb")
        self._process = subprocess.Popen(
            [*arguments, "about:blank"], stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        self.events: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        try:
            self._socket = self._connect(profile / "DevToolsActivePort", start_timeout)
        except BaseException:
            self.close()
            raise

    def _connect(self, port_file: Path, timeout: float) -> ClientConnection:
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise BrowserError(f"chromium exited ({self._process.returncode}): {self.log()[-2000:]}")
            lines = port_file.read_text().splitlines() if port_file.exists() else []
            if len(lines) >= 2:
                port = int(lines[0])
                tabs = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
                pages = [tab for tab in tabs if tab.get("type") == "page"]
                if pages:
                    url = pages[0]["webSocketDebuggerUrl"]
                    # Entered by hand: the connection lives as long as this object.
                    return connect(url, max_size=None, open_timeout=timeout).__enter__()
            if time.monotonic() > deadline:
                raise BrowserError(f"chromium did not open its DevTools port in {timeout} s: {self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        self._log.flush()
        return (Path(self._profile.name) / "chromium.log").read_text(errors="replace")

    def call(self, method: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and wait for its answer (events are kept in ``events``)."""
        command_id = next(self._ids)
        self._socket.send(orjson.dumps({"id": command_id, "method": method, "params": params}).decode())
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError(f"{method}: no answer from chromium in {timeout} s")
            message = orjson.loads(self._socket.recv(timeout=remaining))
            if message.get("id") == command_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float) -> Any:
        """Poll ``expression`` until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while not (value := self.evaluate(expression)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expression!r} stayed false for {timeout} s")
            time.sleep(0.05)
        return value

    def open(self, url: str, timeout: float = 30.0) -> None:
        """Navigate to ``url`` by way of a blank page, so that nothing read after this call
        can come from the document that was there before."""
        self.call("Page.navigate", url="about:blank")
        self.wait_for("location.href === 'about:blank'", timeout)
        self.call("Page.navigate", url=url)

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        connection = getattr(self, "_socket", None)
        if connection is not None:
            connection.close()
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()
        self._profile.cleanup()

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
