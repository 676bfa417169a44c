"""``GET /``: the chat page (``create_app(adapter, ui=True)``; on in ``fastsse serve``).

One self-contained HTML file (``static/chat.html``, shipped in the package): it streams from
the server that served it through ``POST v1/chat/completions`` with fetch and a
ReadableStream, and renders reasoning, text, tool calls and timings as they arrive.
``?q=TEXT`` sends TEXT on load. The Content-Security-Policy lets the page's own inline script
and style run (by hash) and lets it connect to its own origin only, so the browser itself
guarantees it loads nothing from anywhere else.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from importlib import resources

from ._asgi import Scope, Send, send_bytes

__all__ = ["page", "serve_page"]

_INLINE = re.compile(rb"<(script|style)>(.*?)</\1>", re.DOTALL)


@cache
def page() -> tuple[bytes, bytes]:
    """The page and its Content-Security-Policy (hashes of its inline script and style)."""
    html = resources.files("fastsse.server").joinpath("static", "chat.html").read_bytes()
    sources: dict[bytes, list[str]] = {b"script": [], b"style": []}
    for kind, body in _INLINE.findall(html):
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        sources[kind].append(f"'sha256-{digest}'")
    policy = (
        "default-src 'none'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        f"script-src {' '.join(sources[b'script'])}; style-src {' '.join(sources[b'style'])}"
    )
    return html, policy.encode()


async def serve_page(scope: Scope, send: Send) -> None:
    html, policy = page()
    headers = [(b"content-security-policy", policy), (b"cache-control", b"no-cache")]
    await send_bytes(send, 200, html, b"text/html; charset=utf-8", headers)
