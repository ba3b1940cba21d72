"""Sessions take turns on the event loop, so the editor's requests are not kept waiting.

asyncio runs, on each turn of its loop, every callback that was ready when the turn began;
what becomes ready during the turn (a request the editor just sent) waits for the next one.
With twenty sessions ready at once, a turn ran twenty engine steps back to back, and a
`plangate/sessionStatus` waited for all of them, turn after turn: hundreds of milliseconds.
Here a session starts at most one step per turn of the loop; the others wait their turn in
order (first come, first served), and whatever else is ready (the editor's requests, model
streams, commands' output) runs in between. A lone session never waits.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque


class Pacer:
    """One engine step starts per turn of the event loop it runs on."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._granted = False  # a step started during this turn

    async def turn(self) -> None:
        """Return when it is this caller's turn: at once when no step started in this turn
        of the loop and nobody is waiting, else after the steps that asked before."""
        if not self._granted and not self._waiting:
            self._grant()
            return
        future = self._loop.create_future()
        self._waiting.append(future)
        await future  # cancelled while waiting: skipped when its turn comes

    def _grant(self) -> None:
        self._granted = True
        self._loop.call_soon(self._next)  # runs on the loop's next turn

    def _next(self) -> None:
        self._granted = False
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_result(None)
                self._grant()
                return


_pacers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Pacer] = weakref.WeakKeyDictionary()


async def take_turn() -> None:
    """Wait for this step's turn on the running loop (see `Pacer`)."""
    loop = asyncio.get_running_loop()
    pacer = _pacers.get(loop)
    if pacer is None:
        pacer = _pacers[loop] = Pacer(loop)
    await pacer.turn()
