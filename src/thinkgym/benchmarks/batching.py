"""A batcher in front of the policy: queries that wait at the same moment go in one call.

A local model generates a whole batch at once; a server gets parallel requests. Whatever a call
raises becomes `Generation(error=...)` for each of its queries, so one bad call fails samples,
never the run.
"""

from __future__ import annotations

import asyncio
import time

from thinkgym.agents.base import Generation, Policy, Query
from thinkgym.errors import ThinkgymError

__all__ = ["Batcher"]


class Batcher:
    """Groups queries that wait at the same moment into one policy call; failures become
    `Generation(error=...)` for every query of the call (the run goes on)."""

    def __init__(self, policy: Policy, batch_size: int, parallel_calls: int):
        self.policy = policy
        self.batch_size = batch_size
        self.calls = asyncio.Semaphore(parallel_calls)
        self.queue: asyncio.Queue[tuple[Query, asyncio.Future[tuple[Generation, float]]]] = (
            asyncio.Queue()
        )
        self.tasks: set[asyncio.Task[None]] = set()
        self.loop_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.loop_task = asyncio.create_task(self._dispatch())

    async def stop(self) -> None:
        for task in [self.loop_task, *self.tasks]:
            if task is not None:
                task.cancel()
        await asyncio.gather(
            *(t for t in [self.loop_task, *self.tasks] if t is not None), return_exceptions=True
        )

    async def generate(self, query: Query) -> tuple[Generation, float]:
        future: asyncio.Future[tuple[Generation, float]] = (
            asyncio.get_running_loop().create_future()
        )
        await self.queue.put((query, future))
        return await future

    async def _dispatch(self) -> None:
        while True:
            await self.calls.acquire()
            batch = [await self.queue.get()]
            while len(batch) < self.batch_size and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            task = asyncio.create_task(self._call(batch))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _call(
        self, batch: list[tuple[Query, asyncio.Future[tuple[Generation, float]]]]
    ) -> None:
        start = time.perf_counter()
        try:
            generations = await self.policy.agenerate([q for q, _ in batch])
            if len(generations) != len(batch):
                raise ThinkgymError(
                    f"policy returned {len(generations)} generations for {len(batch)} queries"
                )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a policy failure is recorded per sample, never fatal
            generations = [
                Generation("", finish_reason="error", error=f"{type(exc).__name__}: {exc}")
            ] * len(batch)
        finally:
            self.calls.release()
        elapsed = time.perf_counter() - start
        for (_, future), generation in zip(batch, generations, strict=True):
            if not future.done():
                future.set_result((generation, elapsed))
