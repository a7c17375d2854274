"""The load generator of bench/compare.py: JSON POSTs over aiohttp, timed one by one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp


@dataclass(frozen=True)
class Answer:
    """One request: when it was sent and answered (monotonic seconds), and what came back."""

    sent: float
    answered: float
    status: int  # 0: no HTTP answer at all (connection refused, reset, timed out)
    body: Any

    @property
    def seconds(self) -> float:
        return self.answered - self.sent


async def _send(
    session: aiohttp.ClientSession, method: str, url: str, payload: dict[str, Any] | None
) -> Answer:
    sent = time.monotonic()
    try:
        async with session.request(method, url, json=payload) as response:
            try:
                body = await response.json(content_type=None)
            except ValueError:
                body = None
            return Answer(sent, time.monotonic(), response.status, body)
    except (aiohttp.ClientError, TimeoutError):
        return Answer(sent, time.monotonic(), 0, None)


def _session(concurrency: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120))


async def _flood(
    method: str, requests: Sequence[tuple[str, dict[str, Any] | None]], concurrency: int
) -> list[Answer]:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(requests)):
        queue.put_nowait(index)
    answers: list[Answer | None] = [None] * len(requests)
    async with _session(concurrency) as session:

        async def connection() -> None:
            while not queue.empty():
                index = queue.get_nowait()
                answers[index] = await _send(session, method, *requests[index])

        await asyncio.gather(*(connection() for _ in range(concurrency)))
    return [answer for answer in answers if answer is not None]


async def _paced(url: str, payloads: Sequence[dict[str, Any]], per_second: float) -> list[Answer]:
    async with _session(len(payloads)) as session:
        start = time.monotonic()
        tasks = []
        for index, payload in enumerate(payloads):
            await asyncio.sleep(max(0.0, start + index / per_second - time.monotonic()))
            tasks.append(asyncio.ensure_future(_send(session, "POST", url, payload)))
        return list(await asyncio.gather(*tasks))


def flood(url: str, payloads: Sequence[dict[str, Any]], concurrency: int) -> list[Answer]:
    """POST every payload over `concurrency` connections kept busy; answers in payload order."""
    return asyncio.run(_flood("POST", [(url, payload) for payload in payloads], concurrency))


def send_all(method: str, urls: Sequence[str], concurrency: int) -> list[Answer]:
    """One bodiless request to each URL, over `concurrency` connections; answers in order."""
    return asyncio.run(_flood(method, [(url, None) for url in urls], concurrency))


def paced(url: str, payloads: Sequence[dict[str, Any]], per_second: float) -> list[Answer]:
    """POST the payloads at a steady rate, not waiting for answers; answers in payload order."""
    return asyncio.run(_paced(url, payloads, per_second))
