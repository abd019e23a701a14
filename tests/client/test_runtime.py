"""Callbacks get the arguments they accept, and work that waits for the app runs after its callbacks."""

from __future__ import annotations

import asyncio
import functools
import threading
from typing import Any

from client.dispatch import LoopDispatcher, ThreadDispatcher
from client.runtime import Runtime, positional_arity


class Inline:
    """A dispatcher that calls at once, so the test sees exactly what each callback was given."""

    def submit(self, fn: Any, *args: Any) -> None:
        fn(*args)

    def close(self, timeout: float | None = None) -> None:
        pass


def test_each_callback_gets_the_arguments_it_accepts() -> None:
    runtime = Runtime(Inline())
    got: list[tuple[str, tuple[Any, ...]]] = []

    class App:
        def on_disconnect(self, reason: str) -> None:
            got.append(("method", (reason,)))

    def no_args() -> None:
        got.append(("none", ()))

    def one(reason: str) -> None:
        got.append(("one", (reason,)))

    def star(*args: Any) -> None:
        got.append(("star", args))

    def defaulted(reason: str = "", extra: int = 0) -> None:
        got.append(("defaulted", (reason, extra)))

    for cb in (no_args, one, star, defaulted, App().on_disconnect, functools.partial(star, "p")):
        runtime.add_callback("disconnect", cb)
    runtime.emit("disconnect", "server gone")
    assert got == [("none", ()), ("one", ("server gone",)), ("star", ("server gone",)),
                   ("defaulted", ("server gone", 0)), ("method", ("server gone",)), ("star", ("p", "server gone"))]


def test_arity_of_what_cannot_be_inspected_is_everything() -> None:
    assert positional_arity(lambda *a: None) is None
    assert positional_arity(lambda a, b, *, c=1: None) == 2


async def test_after_callbacks_waits_for_a_slow_callback_on_the_thread_dispatcher() -> None:
    dispatcher = ThreadDispatcher()
    runtime = Runtime(dispatcher)
    release = threading.Event()
    order: list[str] = []

    def slow(msg: str) -> None:
        release.wait(10)
        order.append(f"shown {msg}")

    runtime.add_callback("message", slow)
    done = asyncio.Event()
    runtime.emit("message", "m1")
    runtime.after_callbacks(lambda: (order.append("after"), done.set()))
    await asyncio.sleep(0.2)
    assert order == []  # the callback still runs: nothing that waits for it has happened
    release.set()
    await asyncio.wait_for(done.wait(), 10)
    assert order == ["shown m1", "after"]
    assert threading.current_thread() is threading.main_thread()  # `after` ran on this loop (it set the event)
    dispatcher.close(5)


async def test_after_callbacks_waits_for_an_async_callback_on_the_loop_dispatcher() -> None:
    dispatcher = LoopDispatcher()
    runtime = Runtime(dispatcher)
    order: list[str] = []

    async def shown(msg: str) -> None:
        await asyncio.sleep(0.05)
        order.append(f"shown {msg}")

    def fails(msg: str) -> None:
        raise RuntimeError("app bug")

    runtime.add_callback("message", shown)
    runtime.add_callback("message", fails)
    done = asyncio.Event()
    runtime.emit("message", "m1")
    runtime.after_callbacks(lambda: (order.append("after"), done.set()))
    await asyncio.wait_for(done.wait(), 10)
    assert order == ["shown m1", "after"]  # a callback that raised does not hold the rest back
    await dispatcher.drain()
