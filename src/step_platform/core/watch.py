"""Blocking queries: `?index=N&wait=30s` on a read, as Consul's, and the `X-Config-Index` header.

Every watchable read answers with `X-Config-Index`, the index of the last change of what it
read. A read with `index=N` answers at once when that index is not N (above it: a change the
client has not seen; below it, or N ahead of everything this database has seen: N is not an
index of this read, e.g. after a restore or a made-up one, and the client starts again from
the index it gets), else it waits until a change wakes it or `wait` ends, then answers 200
with the (possibly unchanged) body and index. `wait` is seconds, or a number with `ms`, `s` or
`m`; it defaults to DEFAULT_WAIT and is capped at MAX_WAIT. A negative or unparsable index or
wait is 400 `INVALID_QUERY` naming the parameter; `wait` without `index` is a plain read
(nothing to wait for), and on a read `index=0` (a client that has seen nothing) never blocks.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from .changes import ChangeSignal
from .errors import ApiError

HEADER = "X-Config-Index"
DEFAULT_WAIT = 30.0
MAX_WAIT = 300.0
MAX_INDEX = 2**63 - 1

# ASCII digits only, nothing around them: exactly the documents' WAIT_PATTERN
WAIT_PATTERN = r"^([0-9]{1,9}(?:\.[0-9]{1,6})?)(ms|s|m)?$"
_WAIT = re.compile(WAIT_PATTERN)
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}

MESSAGES = {
    "en": {
        "message": "Invalid query parameters.",
        "index": "Enter a whole number between 0 and 9223372036854775807.",
        "wait": "Enter a duration: seconds, or a number with ms, s or m (e.g. 30s).",
    },
    "ru": {
        "message": "Некорректные параметры запроса.",
        "index": "Ожидается целое число от 0 до 9223372036854775807.",
        "wait": "Ожидается длительность: секунды или число с ms, s или m (например, 30s).",
    },
}

T = TypeVar("T")


@dataclass(frozen=True)
class Watch:
    index: int
    wait: float


def parse_watch(params: Mapping[str, str], language: str = "en") -> Watch | None:
    """The blocking query of a request, None for a plain read."""
    words = MESSAGES[language]
    raw_index, raw_wait = params.get("index"), params.get("wait")
    fields: dict[str, list[str]] = {}
    index = wait = None
    if raw_index is not None:
        if raw_index.isascii() and raw_index.isdigit() and int(raw_index) <= MAX_INDEX:
            index = int(raw_index)
        else:
            fields["index"] = [words["index"]]
    if raw_wait is not None:
        match = _WAIT.fullmatch(raw_wait)
        if match is None:
            fields["wait"] = [words["wait"]]
        else:
            wait = min(float(match.group(1)) * _UNITS[match.group(2)], MAX_WAIT)
    if fields:
        raise ApiError(400, "INVALID_QUERY", words["message"], fields=fields)
    if index is None:
        return None
    return Watch(index=index, wait=DEFAULT_WAIT if wait is None else wait)


def wait_text(seconds: float) -> str:
    """`seconds` as a `wait` value WAIT_PATTERN takes, for passing a wait on: a float's own
    text can carry more digits than it allows (2.6 ms is 0.0026000000000000003 s)."""
    return f"{seconds:.6f}s"


def parse_read_watch(params: Mapping[str, str], language: str = "en") -> Watch | None:
    """The blocking query of a read: as `parse_watch`, but `index=0` is a plain read, since
    every change has an index above 0 (a feed's `index=0` means "from the start" instead)."""
    watch = parse_watch(params, language)
    return None if watch is None or watch.index == 0 else watch


@dataclass(frozen=True)
class Indexed:
    """What a watchable read found: its index and the highest index the source knows."""

    index: int
    latest: int


async def block(
    watch: Watch | None,
    signal: ChangeSignal,
    projects: Iterable[str] | None,
    read: Callable[[], Awaitable[T]],
    indexed: Callable[[T], Indexed],
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Read; with a watch, read again after each change of `projects` until the read's index
    differs from the watch's, or its wait ends. The ticket is taken before each read."""
    if watch is None:
        return await read()
    keys = None if projects is None else frozenset(projects)
    deadline = clock() + watch.wait
    while True:
        ticket = signal.ticket(keys)
        try:
            result = await read()
            found = indexed(result)
            remaining = deadline - clock()
            if found.index != watch.index or remaining <= 0:
                return result
            await signal.wait(ticket, remaining)
        finally:
            signal.release(ticket)
