"""`Idempotency-Key` on writes: the same key and request within 24 h replays the first answer
without writing again; the same key with another request is 422.

The middleware buffers the request body (it is already bounded by the body limit), takes a
fingerprint of the request (method, path, query, the context headers, the body), and asks a
`KeyStore` for the key's slot. A slot either holds a stored answer (replayed, with
`Idempotent-Replayed: true`) or belongs to this request, which runs and whose answer is saved
— unless it is a 5xx: a failure is not an answer worth replaying, the key stays free for the
retry. Keys are scoped by the caller's credentials, so two callers never share an answer.

Stores: `MemoryKeys` (one process; configs and step, whose edge routes a key to one instance:
docs/architecture.md) and the registry's Postgres store, which saves the answer in the same
transaction as the write (registry/idempotency.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ApiError
from .middleware import raw_header

HEADER = b"idempotency-key"
TTL_SECONDS = 24 * 3600
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
# Headers that describe this delivery, not the answer: never stored, set afresh on a replay.
_NOT_STORED = {b"x-request-id", b"x-served-by", b"date", b"server", b"content-length"}
# Headers that change what a request means (Authorization scopes the key instead).
FINGERPRINTED = (b"project-id", b"account-id", b"if-match", b"content-type")


@dataclass
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass
class Slot:
    """A key's place in a store: `answer` when one is stored, else this request owns it."""

    answer: Answer | None = None
    saved: Answer | None = field(default=None, repr=False)

    def save(self, answer: Answer) -> None:
        self.saved = answer


class KeyStore(Protocol):
    def slot(self, key: str, fingerprint: str) -> AbstractAsyncContextManager[Slot]:
        """Enter: the key's slot (raises `KeyReused` for another fingerprint). Exit: persist
        `slot.saved` if it is set (and no exception left the block), else free the key.
        Concurrent requests with one key wait for the first."""
        ...


class KeyReused(ApiError):
    def __init__(self) -> None:
        super().__init__(
            422,
            "IDEMPOTENCY_KEY_REUSED",
            "This Idempotency-Key was used with another request.",
        )


@dataclass
class _Entry:
    fingerprint: str
    answer: Answer
    expires: float


class MemoryKeys:
    """Answers kept in this process for `ttl` seconds, at most `capacity` of them (oldest
    dropped first); one lock per key makes a concurrent repeat wait and then replay."""

    def __init__(self, *, ttl: float = TTL_SECONDS, capacity: int = 10_000) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # key -> (lock, requests using it)

    @asynccontextmanager
    async def slot(self, key: str, fingerprint: str) -> AsyncIterator[Slot]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                entry = self._entries.get(key)
                if entry is not None and entry.expires < time.monotonic():
                    del self._entries[key]
                    entry = None
                if entry is not None:
                    if entry.fingerprint != fingerprint:
                        raise KeyReused()
                    yield Slot(answer=entry.answer)
                    return
                slot = Slot()
                yield slot
                if slot.saved is not None:
                    self._entries[key] = _Entry(
                        fingerprint, slot.saved, time.monotonic() + self.ttl
                    )
                    while len(self._entries) > self.capacity:
                        self._entries.popitem(last=False)
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


_BOUNDARY = re.compile(rb';\s*boundary="?([^";]+)"?', re.IGNORECASE)


def fingerprint(scope: Scope, body: bytes) -> str:
    """What makes two requests the same one. A multipart body is taken without its boundary,
    which a client library draws afresh for each attempt of the same upload."""
    digest = hashlib.sha256()
    for part in (scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b"")):
        digest.update(part + b"\0")
    for name in FINGERPRINTED:
        value = raw_header(scope, name) or b""
        if name == b"content-type" and (boundary := _BOUNDARY.search(value)):
            body = body.replace(boundary.group(1), b"")
            value = value[: boundary.start()]
        digest.update(value + b"\0")
    digest.update(body)
    return digest.hexdigest()


def scoped_key(scope: Scope, key: str) -> str:
    """The stored key: the client's key within its credentials (a hash of Authorization)."""
    credentials = hashlib.sha256(raw_header(scope, b"authorization") or b"").hexdigest()[:32]
    return f"{credentials}:{key}"


class IdempotencyMiddleware:
    """Replays answers of writes sent with `Idempotency-Key` (see the module docstring).

    `applies(scope)` picks the routes (default: every POST/PUT/PATCH/DELETE). With
    `credentials_required` (the services whose writes need a bearer token), a request without
    `Authorization` passes straight to its handler, which refuses it 401: its key is neither
    looked at nor kept, so an anonymous caller never fills the key store nor gets 400/422
    where 401 is due.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: KeyStore,
        applies: Callable[[Scope], bool] | None = None,
        credentials_required: bool = False,
    ) -> None:
        self.app = app
        self.store = store
        self.applies = applies or (lambda scope: scope["method"] in WRITES)
        self.credentials_required = credentials_required

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = raw_header(scope, HEADER) if scope["type"] == "http" else None
        anonymous = self.credentials_required and raw_header(scope, b"authorization") is None
        if raw is None or anonymous or not self.applies(scope):
            await self.app(scope, receive, send)
            return
        key = raw.decode("latin-1")
        if not _KEY.match(key):
            error = ApiError(
                400,
                "INVALID_HEADER",
                "Idempotency-Key must be 1 to 255 visible ASCII characters.",
                fields={"Idempotency-Key": ["Invalid value."]},
            )
            await error.response()(scope, receive, send)
            return
        body, more = await _read_body(receive)
        if more is not None:  # the client went away mid-body
            return
        try:
            async with self.store.slot(scoped_key(scope, key), fingerprint(scope, body)) as slot:
                if slot.answer is not None:
                    answer, extra = slot.answer, [(b"idempotent-replayed", b"true")]
                else:
                    answer, extra = await _run(self.app, scope, body, receive), []
                    if answer.status < 500:
                        slot.save(storable(answer))
        except ApiError as exc:  # the key reused, or the store's own failure
            await exc.response()(scope, receive, send)
            return
        await _deliver(answer, send, extra)


async def _read_body(receive: Receive) -> tuple[bytes, Message | None]:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


async def _run(app: ASGIApp, scope: Scope, body: bytes, receive: Receive) -> Answer:
    """Run the app on the buffered body and capture its answer instead of sending it."""
    delivered = False
    answer = Answer(500, [], b"")
    parts: list[bytes] = []

    async def replay_receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    async def capture(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer.status = message["status"]
            answer.headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, replay_receive, capture)
    answer.body = b"".join(parts)
    return answer


async def _deliver(answer: Answer, send: Send, extra: list[tuple[bytes, bytes]]) -> None:
    """Send an answer (after the store kept it: a write is acknowledged only once saved)."""
    headers = [(k, v) for k, v in answer.headers if k.lower() != b"content-length"]
    headers += [(b"content-length", str(len(answer.body)).encode()), *extra]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


def storable(answer: Answer) -> Answer:
    """The answer without the headers of its delivery."""
    headers = [(k, v) for k, v in answer.headers if k.lower() not in _NOT_STORED]
    return Answer(answer.status, headers, answer.body)
