"""The Responses API's stored responses, on the stream store: background mode, retrieve, cancel.

With resumable streams on, every streamed or background Responses request is a stream in the
store whose id is its response's: response ``resp_X`` is stream ``strm_X`` (also readable at
``GET /v1/streams/strm_X``). Each SSE event is one Responses event and the store numbers the
events from 1, so the event with ``sequence_number`` N is the stream's event N + 1:
``starting_after=N`` is ``Last-Event-ID: N + 1``.

* ``POST /v1/responses`` with ``background: true``: the generation runs to its end into the
  store whether or not a client reads it (no detach timeout; ``max_output_tokens`` and the
  stream caps bound it). Streamed, the response is the stream, as without ``background``;
  otherwise the answer is the response object, status ``queued``, at once.
* ``GET /v1/responses/{id}?stream=true&starting_after=N``: the events after sequence number N
  (all of them without ``starting_after``), byte for byte as the first connection carried them,
  then live to the end.
* ``GET /v1/responses/{id}``: the response object as it stands: ``in_progress`` with the output
  items finished so far, or the final object (``completed``, ``incomplete``, ``failed``,
  ``cancelled``).
* ``POST /v1/responses/{id}/cancel``: cancels the generation wherever it runs (another
  replica's producer learns it at its next lease renewal) and returns the response object.
"""

from __future__ import annotations

import time
from typing import Any

import anyio
import orjson

from ._asgi import Receive, Scope, Send, send_bytes
from ._errors import RequestError
from ._resume import Produce, ResumableStreams
from ._stores import StoreFullError, StoreUnavailableError, StreamStore
from ._streaming import EncoderLike

__all__ = ["queued_response", "serve_stored_response", "stream_id_of"]

FORMAT = "openai-responses"
RESPONSE_PREFIX, STREAM_PREFIX = "resp_", "strm_"
# The codes of the error events the store's producers and readers write (see _resume), and the
# one ending a stream cancelled on request.
STORE_ERRORS = "stream_"
CANCELLED = "stream_cancelled"


def stream_id_of(response_id: str) -> str | None:
    """The stream holding response ``response_id``; None when it is not a response id."""
    key = response_id.removeprefix(RESPONSE_PREFIX)
    if key == response_id or not key.isalnum() or len(key) > 64:
        return None
    return STREAM_PREFIX + key


async def queued_response(
    resumable: ResumableStreams, produce: Produce, encoder: EncoderLike, send: Send, stream_id: str
) -> None:
    """Background without streaming: start the producer and answer with the response object
    (``encoder``, a spare one with the same fields, writes it as the stream's first event)."""
    response = _payload(encoder.encode([]))["response"]
    try:
        await resumable.start(produce, format=FORMAT, stream_id=stream_id, detached=True)
    except (StoreFullError, StoreUnavailableError) as exc:
        raise RequestError(str(exc), status=503) from None
    await send_bytes(send, 200, orjson.dumps({**response, "status": "queued"}))


def _payload(event: bytes) -> dict[str, Any]:
    """The JSON of an event's (one) data line."""
    data = event.partition(b"data: ")[2].partition(b"\n")[0]
    value = orjson.loads(data) if data else {}
    return value if isinstance(value, dict) else {}


async def current_response(store: StreamStore, stream_id: str, response_id: str) -> dict[str, Any] | None:
    """The response object as the stored events tell it; None when there is no such stream."""
    first: dict[str, Any] | None = None
    last: dict[str, Any] | None = None
    done_items: dict[int, Any] = {}
    after, state = 0, "open"
    while True:
        batch = await store.read(stream_id, after, 0.0)
        state = batch.state
        for _, event in batch.events:
            payload = _payload(event)
            if isinstance(payload.get("response"), dict):
                first, last = first or payload["response"], payload["response"]
            if payload.get("type") == "response.output_item.done":
                done_items[int(payload.get("output_index", len(done_items)))] = payload.get("item")
        if not batch.events or state != "open":
            break
        after = batch.events[-1][0]
    if first is None or last is None:
        if state == "unknown":
            return None
        first = last = {"id": response_id, "object": "response", "created_at": int(time.time()), "output": []}
        first["status"] = "queued"
    response = dict(last)
    if str((last.get("error") or {}).get("code", "")).startswith(STORE_ERRORS):
        # The store's own error event ended the stream (``stream_producer_lost``, ...): it says
        # only why; the other fields are the response's as it began.
        response = {**first, "status": last.get("status"), "error": last.get("error")}
    if response.get("status") in ("queued", "in_progress", "failed") and not response.get("output"):
        response["output"] = [done_items[index] for index in sorted(done_items)]
    if state == "lost" and response.get("status") in ("queued", "in_progress"):
        message = "the server producing this response stopped before its end"
        response.update(status="failed", error={"code": "stream_producer_lost", "message": message})
    if response.get("status") == "failed" and (response.get("error") or {}).get("code") == CANCELLED:
        response.update(status="cancelled", error=None)
    return response


def _query(scope: Scope) -> dict[str, str]:
    raw = scope.get("query_string", b"").decode("latin-1")
    return dict(part.partition("=")[::2] for part in raw.split("&") if part)


def _starting_after(query: dict[str, str]) -> int:
    given = query.get("starting_after")
    if given is None or given == "":
        return 0
    if not given.isdigit() or len(given) > 18:
        raise RequestError(
            f"'starting_after' must be a sequence number, got {given!r}", param="starting_after"
        )
    return int(given) + 1  # sequence number N is the stream's event N + 1


async def serve_stored_response(
    resumable: ResumableStreams, scope: Scope, receive: Receive, send: Send, *, keepalive: float
) -> None:
    """``GET /v1/responses/{id}`` (streamed or not) and ``POST /v1/responses/{id}/cancel``."""
    parts = scope["path"].rstrip("/").split("/")
    cancel = parts[-1] == "cancel"
    response_id = parts[-2] if cancel else parts[-1]
    method, allowed = scope["method"], "POST" if cancel else "GET"
    if method != allowed:
        raise RequestError(f"{scope['path']} accepts {allowed}, not {method}", status=405)
    stream_id = stream_id_of(response_id)
    store = resumable.store
    try:
        format = None if stream_id is None else await store.format_of(stream_id)
    except StoreUnavailableError as exc:
        raise RequestError(str(exc), status=503) from None
    if stream_id is None or format != FORMAT:
        raise RequestError(f"no response {response_id!r} (unknown, or expired)", status=404)
    query = _query(scope)
    if not cancel and query.get("stream") == "true":
        after = _starting_after(query)
        await resumable.follow(send, receive, stream_id, after, format=FORMAT, keepalive=keepalive)
        return
    if cancel:
        await resumable.cancel(stream_id)
        # Wait (a bounded time) for the producer to end the stream, wherever it runs.
        with anyio.move_on_after(resumable.lease):
            while (await _state(store, stream_id, response_id)).get("status") in ("queued", "in_progress"):
                await anyio.sleep(0.05)
    await send_bytes(send, 200, orjson.dumps(await _state(store, stream_id, response_id)))


async def _state(store: StreamStore, stream_id: str, response_id: str) -> dict[str, Any]:
    try:
        response = await current_response(store, stream_id, response_id)
    except StoreUnavailableError as exc:
        raise RequestError(str(exc), status=503) from None
    if response is None:
        raise RequestError(f"no response {response_id!r} (unknown, or expired)", status=404)
    return response
