"""Blocking queries: `?index=N&wait=30s` on a read, as Consul's, and the `X-Config-Index` header.

Every watchable read answers with `X-Config-Index`, the index of the last change of what it
read. A read with `index=N` waits only when N is that index (the client has seen what the
read would answer): until a change wakes it or `wait` ends, then 200 with the (possibly
unchanged) body and index. Any other N answers at once — below, a change was missed; above,
N is not this read's (another list's, the latest, or ahead of a restored database), and the
client goes on with the index it gets. `wait` is seconds, or a number with `ms`, `s` or `m`;
it defaults to DEFAULT_WAIT and is capped at MAX_WAIT; without `index` it is a plain read.
A negative or unparsable index or wait is 400 `INVALID_QUERY` naming the parameter.
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

_WAIT = re.compile(r"(\d{1,9}(?:\.\d{1,6})?)(ms|s|m)?")
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
    """The blocking query of a request, None for a plain read (no `index`)."""
    words = MESSAGES[language]
    raw_index, raw_wait = params.get("index"), params.get("wait")
    fields: dict[str, list[str]] = {}
    index = wait = None
    if raw_index is not None:
        text = raw_index.strip()
        if text.isascii() and text.isdigit() and int(text) <= MAX_INDEX:
            index = int(text)
        else:
            fields["index"] = [words["index"]]
    if raw_wait is not None:
        match = _WAIT.fullmatch(raw_wait.strip())
        if match is None:
            fields["wait"] = [words["wait"]]
        else:
            wait = min(float(match.group(1)) * _UNITS[match.group(2)], MAX_WAIT)
    if fields:
        raise ApiError(400, "INVALID_QUERY", words["message"], fields=fields)
    if index is None:
        return None
    return Watch(index=index, wait=DEFAULT_WAIT if wait is None else wait)


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
    """Read; with a watch whose index is the read's own, read again after each change of
    `projects` until the index moves, or the wait ends. Any other index answers at once: one
    below has missed a change, one above is not this read's (another list's, the latest, a
    restored database's): the client gets the read's index and watches with it. So a wait
    only ever waits for news. The ticket is taken before each read."""
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
