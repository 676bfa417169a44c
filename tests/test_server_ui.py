"""The chat page at ``GET /``: served as one self-contained file, then run in a real headless
Chromium against ``fastsse serve`` (and under a Starlette mount) with the replay engine."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastsse.adapters import ReplayAdapter
from fastsse.server import create_app
from serving import running_server
from starlette.applications import Starlette
from starlette.routing import Mount
from support.browser import Chromium
from support.processes import fastsse_serve, wait_until

SCREENSHOTS = Path(__file__).resolve().parents[1] / "target" / "test-output"
QUESTION = "What's the weather in Paris?"

# Installed before the page's own script: keeps every value the tool-call arguments element
# showed (each textContent assignment adds a new text node), to check they streamed in pieces.
RECORD_ARGUMENTS = """
window.argumentsShown = [];
new MutationObserver((records) => {
  for (const record of records) {
    if (record.target.classList && record.target.classList.contains("args")) {
      for (const node of record.addedNodes) window.argumentsShown.push(node.data);
    }
  }
}).observe(document, { subtree: true, childList: true });
"""

READ_PAGE = """(() => {
  const replies = [...document.querySelectorAll(".assistant")];
  return {
    state: document.body.dataset.state,
    user: [...document.querySelectorAll(".user")].map((n) => n.textContent),
    replies: replies.map((reply) => ({
      reasoning: reply.querySelector(".reasoning-text")?.textContent ?? null,
      reasoningOpen: reply.querySelector("details.reasoning")?.open ?? null,
      text: reply.querySelector(".text")?.textContent ?? null,
      calls: [...reply.querySelectorAll(".tool-call")].map((call) => ({
        name: call.querySelector(".name").textContent,
        arguments: call.querySelector(".args").textContent,
      })),
      results: [...reply.querySelectorAll(".tool-result")].map((n) => n.textContent),
      ttftMs: reply.querySelector(".stats")?.dataset.ttftMs ?? null,
      tokensPerSecond: reply.querySelector(".stats")?.dataset.tokensPerSecond ?? null,
      errors: [...reply.querySelectorAll(".error")].map((n) => n.textContent),
    })),
    argumentsShown: window.argumentsShown,
  };
})()"""


def test_the_page_is_one_file_with_a_policy_that_forbids_other_origins() -> None:
    with running_server(create_app(ReplayAdapter(), ui=True)) as url:
        response = httpx.get(url + "/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.content
    assert b"://" not in html  # no absolute URL: nothing is loaded from anywhere
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    for kind, body in re.findall(rb"<(script|style)>(.*?)</\1>", html, re.DOTALL):
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        assert f"{kind.decode()}-src 'sha256-{digest}'" in policy


def test_no_page_unless_asked_and_the_page_needs_no_key() -> None:
    with running_server(create_app(ReplayAdapter())) as url:
        assert httpx.get(url + "/").status_code == 404
    with running_server(create_app(ReplayAdapter(), ui=True, api_key="secret")) as url:
        assert httpx.get(url + "/").status_code == 200
        assert httpx.get(url + "/v1/models").status_code == 401
        assert httpx.get(url + "/v1/models", headers={"authorization": "Bearer secret"}).status_code == 200


def test_fastsse_serve_no_ui_turns_the_page_off() -> None:
    with fastsse_serve("--no-ui") as (url, _):
        assert httpx.get(url + "/").status_code == 404
        assert httpx.get(url + "/health").status_code == 200


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    with Chromium() as chromium:
        chromium.call("Page.enable")
        chromium.call("Runtime.enable")
        chromium.call("Network.enable")
        chromium.call("Page.addScriptToEvaluateOnNewDocument", source=RECORD_ARGUMENTS)
        yield chromium


def ask_in_the_browser(browser: Chromium, page_url: str) -> dict[str, Any]:
    """Open ``page_url?q=QUESTION``, wait until the page says it is done, read its DOM."""
    browser.events.clear()
    browser.open(f"{page_url}?q={quote(QUESTION)}")
    # Generous: a loaded 2-core machine; a run takes about two seconds.
    state = browser.wait_for("['done', 'error'].includes(document.body?.dataset.state)", timeout=60)
    assert state
    page: dict[str, Any] = browser.evaluate(READ_PAGE)
    exceptions = [e["params"] for e in browser.events if e["method"] == "Runtime.exceptionThrown"]
    assert not exceptions, exceptions
    requested = [
        e["params"]["request"]["url"] for e in browser.events if e["method"] == "Network.requestWillBeSent"
    ]
    origin = page_url.split("/", 3)[:3]
    assert requested and all(url.split("/", 3)[:3] == origin for url in requested), requested
    return page


def check_the_conversation(page: dict[str, Any]) -> None:
    assert page["state"] == "done", page
    assert page["user"] == [QUESTION]
    call_reply, answer_reply = page["replies"]  # the tool call, then the answer to its result
    assert [call["name"] for call in call_reply["calls"]] == ["get_weather"]
    arguments = call_reply["calls"][0]["arguments"]
    assert json.loads(arguments) == {"city": "Paris", "unit": "celsius"}
    assert "18" in call_reply["results"][0] and "overcast" in call_reply["results"][0]
    assert "Paris" in call_reply["reasoning"] and call_reply["reasoningOpen"] is False
    assert answer_reply["text"].startswith("Here is what the tool reported")
    assert "temperature**: 18" in answer_reply["text"] and "overcast" in answer_reply["text"]
    assert answer_reply["reasoning"] and answer_reply["reasoningOpen"] is False  # folded once text came
    for reply in (call_reply, answer_reply):
        assert not reply["errors"]
        assert float(reply["ttftMs"]) > 0 and float(reply["tokensPerSecond"]) > 0
    # The arguments were shown as they streamed: growing prefixes, then the whole.
    shown = [value for value in page["argumentsShown"] if value]
    assert shown[-1] == arguments and all(arguments.startswith(value) for value in shown)
    assert len(set(shown)) >= 2, shown


def test_the_page_in_chromium_against_fastsse_serve(browser: Chromium) -> None:
    with fastsse_serve("--rate", "150", "--model", "replay-page") as (url, _):
        page = ask_in_the_browser(browser, url + "/")
        browser.screenshot(SCREENSHOTS / "chat-page.png")
    check_the_conversation(page)
    assert browser.evaluate("document.getElementById('model').textContent") == "replay-page"
    assert (SCREENSHOTS / "chat-page.png").read_bytes().startswith(b"\x89PNG")


def test_the_page_in_chromium_under_a_starlette_mount(browser: Chromium) -> None:
    app = create_app(ReplayAdapter(tokens_per_second=150), reasoning="think", tools="hermes", ui=True)
    with running_server(Starlette(routes=[Mount("/llm", app=app)])) as url:
        page = ask_in_the_browser(browser, url + "/llm/")
        check_the_conversation(page)
        # A follow-up typed into the form, with the demo tool switched off: plain prose.
        browser.evaluate(
            "document.getElementById('use-tool').click();"
            "document.getElementById('prompt').value = 'How does streaming work?';"
            "document.getElementById('send').click()"
        )
        browser.wait_for("document.body.dataset.state === 'done'", timeout=60)
        page = browser.evaluate(READ_PAGE)
    assert page["user"] == [QUESTION, "How does streaming work?"]
    follow_up = page["replies"][-1]
    assert len(page["replies"]) == 3 and not follow_up["calls"] and not follow_up["errors"]
    assert len(follow_up["text"]) > 100 and follow_up["reasoning"]


def test_stop_in_chromium_ends_the_generation_on_the_server(browser: Chromium) -> None:
    replay = ReplayAdapter(tokens_per_second=20)  # slow enough to stop it halfway
    with running_server(create_app(replay, reasoning="think", ui=True)) as url:
        browser.open(f"{url}/?q={quote('How does streaming work?')}")
        browser.wait_for("document.querySelector('.reasoning-text')?.textContent.length > 0", timeout=60)
        assert browser.evaluate("document.getElementById('send').textContent") == "Stop"
        browser.evaluate("document.getElementById('send').click()")
        browser.wait_for("document.body.dataset.state === 'stopped'", timeout=30)
        wait_until(lambda: replay.records[-1].outcome is not None, "the server closing the generation")
    assert replay.records[-1].outcome == "closed"
    assert browser.evaluate("document.querySelector('.error').textContent") == "stopped"
    assert browser.evaluate("document.getElementById('send').textContent") == "Send"
