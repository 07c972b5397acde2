"""The simulator's state: nodes, processes with their statuses, tasks, attachments, tokens.

Everything lives in memory and is mutated by one event loop, so no locking is needed. A state
is built from a *fixture* (the JSON format described in `fixtures.py`), and written back in the
same format (`snapshot`), which is how `--state FILE` survives a restart. File contents are
kept apart from the metadata in a `Blobs` store: in memory, or in a directory next to the
state file so the JSON stays small.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import os
import secrets
import shutil
import time
import uuid
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

from step_platform.core.ids import canonical_uuid

from . import rql


class FixtureError(ValueError):
    """A fixture or state document is malformed; the message names the offending item."""


class NotFound(LookupError):
    """A node, process, task or attachment does not exist."""


class Invalid(ValueError):
    """A write would break the tracker's rules (e.g. a status of another process)."""


def now_iso(moment: datetime | None = None) -> str:
    """`2024-11-06T10:15:00.000Z`: the form the original client parses (`Z`, milliseconds)."""
    moment = moment or datetime.now(UTC)
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


# A UUID as lowercase hyphenated text, or `None` for anything that is not a UUID.
canonical_id = canonical_uuid


def guess_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


# --- file contents ---------------------------------------------------------------------------


class Blobs:
    """File contents by attachment id, in memory."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> None:
        self._data[key] = data

    def get(self, key: str) -> bytes:
        return self._data.get(key, b"")

    def clear(self) -> None:
        self._data.clear()


class DirBlobs(Blobs):
    """File contents in a directory (one file per attachment id), for persisted state."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def put(self, key: str, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f".{key}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.directory / key)

    def get(self, key: str) -> bytes:
        try:
            return (self.directory / key).read_bytes()
        except FileNotFoundError:
            return b""

    def clear(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


# Rendered search answers kept (`Store.answer`): enough for every query of a few hundred
# concurrent step users, at most 32 MiB (an answer over a quarter of that is not kept).
ANSWERS_MAX = 512
ANSWERS_MAX_BYTES = 32 * 1024 * 1024


# --- model -----------------------------------------------------------------------------------


@dataclass
class Process:
    id: str
    name: str
    statuses: dict[str, str]  # status id -> name, in declaration order


@dataclass
class Attachment:
    id: str
    node_id: str
    task_id: str
    name: str  # stored name: "<uuid>-<original name>"
    content_type: str
    size: int = 0

    def path(self) -> str:
        return f"media/{self.node_id}/{self.id}/{quote(self.name)}"


@dataclass
class Node:
    id: str
    name: str
    processes: dict[str, Process]
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)  # creation order
    attachments: dict[str, list[str]] = field(default_factory=dict)  # task id -> ids


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise FixtureError(message)


def _id(value: Any, where: str) -> str:
    canonical = canonical_id(value)
    _require(canonical is not None, f"{where}: id must be a UUID, got {value!r}")
    assert canonical is not None
    return canonical


def _list(value: Any, where: str) -> list[Any]:
    _require(isinstance(value, list), f"{where} must be a list")
    return cast(list[Any], value)


def _obj(value: Any, where: str) -> dict[str, Any]:
    _require(isinstance(value, dict), f"{where} must be an object")
    return cast(dict[str, Any], value)


def _opt_str(value: Any, where: str) -> str | None:
    _require(value is None or isinstance(value, str), f"{where} must be a string or null")
    return cast(str | None, value)


class Store:
    """The tracker's data and the service-account tokens it has issued."""

    def __init__(self, blobs: Blobs | None = None) -> None:
        self.blobs = blobs or Blobs()
        self.nodes: dict[str, Node] = {}
        self.files: dict[str, Attachment] = {}
        self.tokens: dict[str, float] = {}  # token -> expiry (epoch seconds)
        # Per node, the search index of its tasks; dropped by every write that changes a task.
        self._indexes: dict[str, rql.Index] = {}
        # Rendered search answers by node and request, dropped whole by every write (a view
        # carries the task's attachments, so an upload changes answers too); `answer` bounds it.
        self._answers: dict[tuple[str, Hashable], bytes] = {}
        self._answer_bytes = 0

    # --- loading and saving -------------------------------------------------------------

    def load(self, document: Any, *, restore: bool = False) -> None:
        """Replace the data with a (date-resolved) fixture; all-or-nothing.

        Issued tokens survive unless the document carries its own (a state file): loading a
        fixture mid-test must not force clients to fetch a new token. `restore` reads a state
        file back, whose file contents are already in the blob store.
        """
        staged = Store(Blobs())
        contents = staged._read(document)
        if not restore:
            self.blobs.clear()
        self.nodes, self.files = staged.nodes, staged.files
        self._indexes.clear()
        self._forget_answers()
        if isinstance(document, dict) and "tokens" in document:
            self.tokens = staged.tokens
        for key, data in contents.items():
            self.blobs.put(key, data)

    def _read(self, document: Any) -> dict[str, bytes]:
        doc = _obj(document, "fixture")
        nodes = _list(doc.get("nodes"), "fixture.nodes")
        _require(bool(nodes), "fixture.nodes must not be empty")
        contents: dict[str, bytes] = {}
        task_ids: set[str] = set()
        for n, raw_node in enumerate(nodes):
            where = f"nodes[{n}]"
            node_doc = _obj(raw_node, where)
            node_id = _id(node_doc.get("id"), where)
            _require(node_id not in self.nodes, f"{where}: duplicate node id {node_id}")
            processes: dict[str, Process] = {}
            for p, raw_process in enumerate(_list(node_doc.get("processes"), f"{where}.processes")):
                pwhere = f"{where}.processes[{p}]"
                proc = _obj(raw_process, pwhere)
                proc_id = _id(proc.get("id"), pwhere)
                _require(proc_id not in processes, f"{pwhere}: duplicate process id {proc_id}")
                statuses: dict[str, str] = {}
                for s, raw_status in enumerate(_list(proc.get("statuses"), f"{pwhere}.statuses")):
                    swhere = f"{pwhere}.statuses[{s}]"
                    status = _obj(raw_status, swhere)
                    status_id = _id(status.get("id"), swhere)
                    name = status.get("name")
                    _require(isinstance(name, str) and bool(name), f"{swhere}.name is required")
                    statuses[status_id] = cast(str, name)
                _require(bool(statuses), f"{pwhere}.statuses must not be empty")
                processes[proc_id] = Process(proc_id, str(proc.get("name") or ""), statuses)
            node = Node(node_id, str(node_doc.get("name") or ""), processes)
            self.nodes[node_id] = node
            for t, raw_task in enumerate(_list(node_doc.get("tasks", []), f"{where}.tasks")):
                twhere = f"{where}.tasks[{t}]"
                task = self._read_task(node, _obj(raw_task, twhere), twhere)
                _require(task["id"] not in task_ids, f"{twhere}: duplicate task id {task['id']}")
                task_ids.add(task["id"])
                node.tasks[task["id"]] = task
                node.attachments[task["id"]] = []
                attachments = _list(raw_task.get("attachments") or [], f"{twhere}.attachments")
                for a, raw_file in enumerate(attachments):
                    awhere = f"{twhere}.attachments[{a}]"
                    item, data = self._read_attachment(
                        node, task["id"], _obj(raw_file, awhere), awhere
                    )
                    if data is not None:
                        contents[item.id] = data
        tokens = _obj(doc.get("tokens", {}), "fixture.tokens")
        for token, expiry in tokens.items():
            _require(isinstance(expiry, int | float), "fixture.tokens values must be numbers")
            self.tokens[token] = float(expiry)
        return contents

    def _read_task(self, node: Node, doc: dict[str, Any], where: str) -> dict[str, Any]:
        process_id = _id(doc.get("process_id"), f"{where}.process_id")
        _require(process_id in node.processes, f"{where}: unknown process {process_id}")
        status_id = _id(doc.get("status_id"), f"{where}.status_id")
        statuses = node.processes[process_id].statuses
        _require(status_id in statuses, f"{where}: status {status_id} is not in its process")
        created_at = doc.get("created_at") or now_iso()
        _require(isinstance(created_at, str), f"{where}.created_at must be a string")
        return {
            "id": _id(doc.get("id"), where),
            "title": _opt_str(doc.get("title", ""), f"{where}.title"),
            "description": _opt_str(doc.get("description", ""), f"{where}.description"),
            "created_at": created_at,
            "process": {"id": process_id},
            "status": {"id": status_id, "name": statuses[status_id]},
            "custom_fields": dict(_obj(doc.get("custom_fields") or {}, f"{where}.custom_fields")),
            "author": doc.get("author"),
            "assignee": doc.get("assignee"),
        }

    def _read_attachment(
        self, node: Node, task_id: str, doc: dict[str, Any], where: str
    ) -> tuple[Attachment, bytes | None]:
        att_id = _id(doc.get("id"), where)
        _require(att_id not in self.files, f"{where}: duplicate attachment id {att_id}")
        name = doc.get("name")
        _require(isinstance(name, str) and bool(name), f"{where}.name is required")
        data: bytes | None = None
        if "content_base64" in doc:
            try:
                data = base64.b64decode(doc["content_base64"], validate=True)
            except (binascii.Error, TypeError, ValueError):
                raise FixtureError(f"{where}.content_base64 is not base64") from None
        elif "content" in doc:
            _require(isinstance(doc["content"], str), f"{where}.content must be a string")
            data = doc["content"].encode()
        content_type = doc.get("content_type") or guess_type(cast(str, name))
        _require(isinstance(content_type, str), f"{where}.content_type must be a string")
        size = len(data) if data is not None else int(doc.get("size") or 0)
        item = Attachment(att_id, node.id, task_id, cast(str, name), content_type, size)
        self.files[att_id] = item
        node.attachments[task_id].append(att_id)
        return item, data

    def snapshot(self) -> dict[str, Any]:
        """The state as a fixture (absolute dates, file contents left in the blob store)."""
        nodes = []
        for node in self.nodes.values():
            tasks = []
            for task in node.tasks.values():
                tasks.append(
                    {
                        "id": task["id"],
                        "process_id": task["process"]["id"],
                        "status_id": task["status"]["id"],
                        "title": task["title"],
                        "description": task["description"],
                        "created_at": task["created_at"],
                        "custom_fields": task["custom_fields"],
                        "author": task["author"],
                        "assignee": task["assignee"],
                        "attachments": [
                            {
                                "id": f.id,
                                "name": f.name,
                                "content_type": f.content_type,
                                "size": f.size,
                            }
                            for f in self.task_files(node, task["id"])
                        ],
                    }
                )
            nodes.append(
                {
                    "id": node.id,
                    "name": node.name,
                    "processes": [
                        {
                            "id": p.id,
                            "name": p.name,
                            "statuses": [{"id": k, "name": v} for k, v in p.statuses.items()],
                        }
                        for p in node.processes.values()
                    ],
                    "tasks": tasks,
                }
            )
        return {"nodes": nodes, "tokens": dict(self.tokens)}

    def counts(self) -> dict[str, int]:
        return {
            "nodes": len(self.nodes),
            "tasks": sum(len(n.tasks) for n in self.nodes.values()),
            "attachments": len(self.files),
        }

    # --- tokens -------------------------------------------------------------------------

    def issue_token(self, ttl: float) -> str:
        """A new opaque token; earlier ones stay valid (several workers share the account)."""
        now = time.time()
        self.tokens = {t: exp for t, exp in self.tokens.items() if exp > now}
        token = secrets.token_urlsafe(32)
        self.tokens[token] = now + ttl
        return token

    def token_valid(self, token: str) -> bool:
        expiry = self.tokens.get(token)
        return expiry is not None and expiry > time.time()

    def revoke_tokens(self) -> int:
        count = len(self.tokens)
        self.tokens.clear()
        return count

    # --- reads --------------------------------------------------------------------------

    def node(self, node_id: str) -> Node:
        canonical = canonical_id(node_id)
        if canonical is None or canonical not in self.nodes:
            raise NotFound(f"Node {node_id} not found")
        return self.nodes[canonical]

    def task(self, node: Node, task_id: str) -> dict[str, Any]:
        canonical = canonical_id(task_id)
        if canonical is None or canonical not in node.tasks:
            raise NotFound(f"Task {task_id} not found")
        return node.tasks[canonical]

    def task_files(self, node: Node, task_id: str) -> list[Attachment]:
        return [self.files[a] for a in node.attachments.get(task_id, [])]

    def file(self, node_id: str, attachment_id: str) -> Attachment:
        item = self.files.get(canonical_id(attachment_id) or "")
        if item is None or item.node_id != canonical_id(node_id):
            raise NotFound(f"Attachment {attachment_id} not found")
        return item

    def tasks(self, node: Node) -> Iterable[dict[str, Any]]:
        return node.tasks.values()

    def search(self, node: Node, query: rql.Query) -> list[dict[str, Any]]:
        """The node's tasks matching `query`, in creation order, through the node's index."""
        index = self._indexes.get(node.id)
        if index is None:
            index = self._indexes[node.id] = rql.Index(list(node.tasks.values()))
        return cast(list[dict[str, Any]], rql.search(query, index.tasks, index))

    def answer(self, node: Node, request: Hashable, render: Callable[[], bytes]) -> bytes:
        """The rendered answer to a read of `node`, from memory while no write came between.

        Why: at 200 contests rendering a search (the views, their attachment urls, the JSON)
        took raida-mock about 1 ms per call, serially in its one process, so two concurrent
        searches of one step request waited for each other; Raida's own speed is not what the
        step benchmarks measure. An answer depends only on the store (no clock, no caller).
        What `render` raises is not remembered.
        """
        key = (node.id, request)
        content = self._answers.get(key)
        if content is None:
            content = render()
            if len(content) <= ANSWERS_MAX_BYTES // 4:
                while self._answers and (
                    len(self._answers) >= ANSWERS_MAX
                    or self._answer_bytes + len(content) > ANSWERS_MAX_BYTES
                ):
                    oldest = next(iter(self._answers))
                    self._answer_bytes -= len(self._answers.pop(oldest))
                self._answers[key] = content
                self._answer_bytes += len(content)
        return content

    def _forget_answers(self) -> None:
        self._answers.clear()
        self._answer_bytes = 0

    # --- writes -------------------------------------------------------------------------

    def _status(self, node: Node, process_id: str, status_id: Any) -> tuple[str, str]:
        process = node.processes[process_id]
        canonical = canonical_id(status_id)
        if canonical is None or canonical not in process.statuses:
            raise Invalid(f"Status {status_id} does not belong to process {process_id}")
        return canonical, process.statuses[canonical]

    def create_task(self, node: Node, process_id: str, body: dict[str, Any]) -> dict[str, Any]:
        canonical = canonical_id(process_id)
        if canonical is None or canonical not in node.processes:
            raise NotFound(f"Process {process_id} not found")
        process = node.processes[canonical]
        status_id = body.get("status_id")
        if status_id is None:  # a tracker puts new tasks in the process's first status
            status_id = next(iter(process.statuses))
        sid, sname = self._status(node, canonical, status_id)
        custom = body.get("custom_fields")
        task = {
            "id": str(uuid.uuid4()),
            "title": body.get("title", ""),
            "description": body.get("description", ""),
            "created_at": now_iso(),
            "process": {"id": canonical},
            "status": {"id": sid, "name": sname},
            "custom_fields": dict(custom or {}),
            "author": body.get("author"),
            "assignee": body.get("assignee"),
        }
        node.tasks[task["id"]] = task
        node.attachments[task["id"]] = []
        self._indexes.pop(node.id, None)
        self._forget_answers()
        return task

    def update_task(self, node: Node, task: dict[str, Any], body: dict[str, Any]) -> None:
        """PATCH semantics: given keys replace, `custom_fields` merge key by key."""
        self._indexes.pop(node.id, None)
        self._forget_answers()
        if "status_id" in body:
            sid, sname = self._status(node, task["process"]["id"], body["status_id"])
            task["status"] = {"id": sid, "name": sname}
        for key in ("title", "description", "author", "assignee"):
            if key in body:
                task[key] = body[key]
        if body.get("custom_fields"):
            task["custom_fields"].update(body["custom_fields"])

    def add_file(
        self, node: Node, task: dict[str, Any], filename: str, data: bytes, content_type: str
    ) -> Attachment:
        att_id = str(uuid.uuid4())
        item = Attachment(
            att_id, node.id, task["id"], f"{uuid.uuid4()}-{filename}", content_type, len(data)
        )
        self.blobs.put(att_id, data)
        self.files[att_id] = item
        self._forget_answers()
        node.attachments[task["id"]].append(att_id)
        return item
