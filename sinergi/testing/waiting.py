"""Waiting in tests for what happens in real time (deliveries, notices, visibility) without fixed sleeps."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(check: Callable[[], Awaitable[Any] | Any], timeout: float = 20.0,
                     interval: float = 0.05) -> Any:
    """Call `check` (sync or async) until it stops raising AssertionError; its last failure after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            result = check()
            return await result if inspect.isawaitable(result) else result
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(interval)
