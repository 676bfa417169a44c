"""The Redis store's plumbing on a real ``redis-server``: one auto-pipeline for every command,
and followers that read only when an append was announced past their last event."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis
from fastsse.server import RedisStore, StoreUnavailableError
from fastsse.server._redis_store import CommandBatches, command
from support.processes import RedisServer


def calls(admin: redis.Redis, name: str) -> int:
    stats: dict[str, Any] = admin.info("commandstats")
    return int(stats.get(f"cmdstat_{name}", {}).get("calls", 0))


def test_thousands_of_concurrent_commands_share_a_few_connections(redis_server: RedisServer) -> None:
    admin = redis.Redis.from_url(redis_server.url)

    async def main() -> tuple[list[Any], int]:
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(redis_server.url)
        batches = CommandBatches(client, connections=2)
        try:
            replies = await asyncio.gather(
                *(
                    batches.run([command("set", f"batch-test:{n}", n), command("get", f"batch-test:{n}")])
                    for n in range(3000)
                )
            )
            return replies, len(client.connection_pool._available_connections)
        finally:
            await batches.aclose()
            await client.aclose()

    pipelines_before = calls(admin, "get")
    replies, connections = asyncio.run(main())
    # Each caller gets its own replies, in order; at most two connections were ever opened.
    assert replies == [[True, str(n).encode()] for n in range(3000)]
    assert connections <= 2
    assert calls(admin, "get") - pipelines_before == 3000


def test_a_caller_cancelled_mid_batch_leaves_the_others_and_the_connection_intact(
    redis_server: RedisServer,
) -> None:
    async def main() -> list[Any]:
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(redis_server.url)
        batches = CommandBatches(client, connections=1)
        try:
            slow = asyncio.ensure_future(batches.run([command("blpop", "batch-test:never", timeout=0.2)]))
            others = [
                asyncio.ensure_future(batches.run([command("incr", "batch-test:count")])) for _ in range(5)
            ]
            await asyncio.sleep(0.05)
            slow.cancel()
            replies = [await other for other in others]
            return replies + await batches.run([command("ping")])
        finally:
            await batches.aclose()
            await client.aclose()

    redis.Redis.from_url(redis_server.url).delete("batch-test:count")
    assert asyncio.run(main()) == [[1], [2], [3], [4], [5], True]


@pytest.mark.parametrize("readers", [1, 3])
def test_followers_read_once_per_announced_append(redis_server: RedisServer, readers: int) -> None:
    """A caught-up reader waits for the stream's announcement instead of reading an empty
    stream: about one XREAD per append, not two; readers of one stream in one process share its
    watch, and no watch is left once the stream ended."""
    admin = redis.Redis.from_url(redis_server.url)
    appends = 40

    async def main() -> tuple[list[list[int]], int]:
        store = RedisStore(redis_server.url, prefix=f"fastsse:follow-test-{readers}:")
        try:
            await store.create("strm_f", format="openai", lease=5)

            async def produce() -> None:
                await asyncio.sleep(0.05)  # the readers caught up first
                for event_id in range(1, appends + 1):
                    await asyncio.sleep(0.01)
                    await store.append("strm_f", [(event_id, b"id: %d\ndata: {}\n\n" % event_id)])
                await store.finish("strm_f", ttl=5)

            async def follow() -> list[int]:
                seen: list[int] = []
                while True:
                    batch = await store.read("strm_f", seen[-1] if seen else 0, wait=2.0)
                    seen.extend(event_id for event_id, _ in batch.events)
                    if batch.state != "open":
                        return seen

            *seen, _ = await asyncio.gather(*(follow() for _ in range(readers)), produce())
            return seen, len(store._announcements.watches)
        finally:
            await store.aclose()

    before = calls(admin, "xread")
    seen, watches_left = asyncio.run(main())
    assert seen == [list(range(1, appends + 1))] * readers and watches_left == 0
    assert calls(admin, "xread") - before <= readers * (appends + 3)


def test_redis_gone_reaches_every_waiting_caller_as_store_unavailable() -> None:
    server = RedisServer()
    server.start()

    async def main() -> list[BaseException | None]:
        store = RedisStore(server.url, prefix="fastsse:gone-test:", connection_wait=1.0)
        try:
            await store.create("strm_g", format="openai", lease=5)
            server.close()
            results = await asyncio.gather(
                *(store.append("strm_g", [(1, b"id: 1\n\n")]) for _ in range(20)), return_exceptions=True
            )
            return list(results)
        finally:
            await store.aclose()

    try:
        results = asyncio.run(main())
    finally:
        server.close()
    assert all(isinstance(result, StoreUnavailableError) for result in results), results


@pytest.mark.parametrize("connections", [0, -1])
def test_the_connection_count_is_checked(connections: int) -> None:
    with pytest.raises(ValueError, match="connections must be at least 1"):
        CommandBatches(object(), connections)


def test_watches_of_streams_no_longer_read_are_swept(redis_server: RedisServer) -> None:
    """Readers that left streams which then went silent (their producer died) leave watches
    behind; past twice the watches in use they are dropped, so memory follows the streams read."""

    async def main() -> tuple[int, int]:
        import redis.asyncio
        from fastsse.server._redis_store import Announcements

        client = redis.asyncio.Redis.from_url(redis_server.url)
        announcements = Announcements(client, "fastsse:sweep-test:changed")
        try:
            in_use = await announcements.watch("strm_read")
            in_use.reading = 1
            for index in range(5000):
                await announcements.watch(f"strm_{index}")
            return len(announcements.watches), int("strm_read" in announcements.watches)
        finally:
            await announcements.aclose()
            await client.aclose()

    held, kept = asyncio.run(main())
    assert held <= 1024 + 1 and kept == 1


def test_an_urgent_group_goes_ahead_of_every_queued_one(redis_server: RedisServer) -> None:
    """A lease renewal queued behind 10,000 reader commands leaves in the next batch."""

    async def main() -> int:
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(redis_server.url)
        batches = CommandBatches(client, connections=1)
        done_before_urgent: list[int] = []
        done = 0

        def count(_: Any) -> None:
            nonlocal done
            done += 1

        try:
            busy = asyncio.ensure_future(batches.run([command("blpop", "batch-test:never", timeout=0.2)]))
            await asyncio.sleep(0.05)  # that batch is out: the connection is busy
            queued = [asyncio.ensure_future(batches.run([command("ping")])) for _ in range(10_000)]
            for future in queued:
                future.add_done_callback(count)
            urgent = asyncio.ensure_future(batches.run([command("ping")], urgent=True))
            urgent.add_done_callback(lambda _: done_before_urgent.append(done))
            await asyncio.gather(busy, urgent, *queued)
            return done_before_urgent[0]
        finally:
            await batches.aclose()
            await client.aclose()

    assert asyncio.run(main()) == 0
