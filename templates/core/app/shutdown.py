"""Graceful shutdown: on SIGTERM new chats are refused, and open streams get SHUTDOWN_GRACE
seconds before they end with an `error` event (`shutting_down`) that says to retry."""

import asyncio
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from types import FrameType
from typing import TypeVar, cast

from app.inference import InferenceError

logger = logging.getLogger(__name__)

T = TypeVar("T")
_END = object()


def shutting_down() -> InferenceError:
    return InferenceError(
        "shutting_down", "The server is restarting; retry the request.", retry_after="1"
    )


class Drain:
    def __init__(self, grace: float = 50.0) -> None:
        self.grace = grace  # seconds open streams get after the stop signal
        self.draining = False
        self._deadline: float | None = None
        self._open: set[asyncio.Timeout] = set()

    def begin(self) -> None:
        """Starts the countdown for every open stream (on the event loop's thread)."""
        if self.draining:
            return
        self.draining = True
        self._deadline = asyncio.get_running_loop().time() + self.grace
        logger.info("stopping: open streams get %.1f s to finish", self.grace)
        for timeout in self._open:
            timeout.reschedule(self._deadline)

    @asynccontextmanager
    async def bounded(self) -> AsyncIterator[None]:
        """Runs the block until the shutdown deadline at most; past it raises `shutting_down`.
        Wrap single awaits, never a `yield`: the deadline cancels what the block awaits."""
        timeout = asyncio.timeout_at(self._deadline)  # a loop time, not a delay
        self._open.add(timeout)
        try:
            async with timeout:
                yield
        except TimeoutError as exc:
            if timeout.expired():
                raise shutting_down() from exc
            raise
        finally:
            self._open.discard(timeout)

    async def until_deadline(self, events: AsyncIterator[T]) -> AsyncIterator[T]:
        """The stream's events, each wait `bounded()`, so the stream can still send a last one."""
        while True:
            async with self.bounded():
                event = await anext(events, _END)
            if event is _END:
                return
            yield cast(T, event)


@contextmanager
def on_stop_signals(callback: Callable[[], None]) -> Iterator[None]:
    """Calls `callback` on the loop at SIGTERM or SIGINT, then the handler installed before
    (uvicorn's). Only the main thread can install handlers: elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    previous: dict[int, Callable[[int, FrameType | None], object] | int | None] = {}

    def handler(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(callback)
        before = previous[signum]
        if callable(before):
            before(signum, frame)
        else:  # nobody else listens: behave as if we were not here
            signal.signal(signum, before if before is not None else signal.SIG_DFL)
            signal.raise_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for signum, before in previous.items():
            signal.signal(signum, before if before is not None else signal.SIG_DFL)
