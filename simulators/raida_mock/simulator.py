"""One running simulator: its store, seed, journal, faults, and the state file it keeps.

Routes (Raida's and the admin API) only talk to this object. Every write goes through
`save()`, which rewrites the state file atomically when `--state` is set, so a restart finds
exactly what the last answered request left.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from step_platform.core.settings import ConfigError

from .fixtures import default_seed, read_fixture, resolve
from .store import Attachment, Blobs, DirBlobs, FixtureError, Node, Store
from .traffic import Faults, Journal


class Simulator:
    def __init__(
        self,
        *,
        seed: dict[str, Any],
        state_file: Path | None = None,
        public_url: str = "",
        journal_size: int = 10000,
    ) -> None:
        self.seed_document = seed
        self.state_file = state_file
        blobs: Blobs = (
            DirBlobs(state_file.with_name(state_file.name + ".files")) if state_file else Blobs()
        )
        self.store = Store(blobs)
        self.journal = Journal(journal_size)
        self.faults = Faults()
        self.url_base = public_url.rstrip("/") + "/" if public_url else ""

    @classmethod
    def open(
        cls,
        *,
        seed_file: Path | None,
        state_file: Path | None,
        public_url: str = "",
        journal_size: int = 10000,
    ) -> Simulator:
        """Read the seed, then the state file if there is one; a bad file is a `ConfigError`."""
        try:
            seed = read_fixture(seed_file) if seed_file else default_seed()
            sim = cls(
                seed=seed, state_file=state_file, public_url=public_url, journal_size=journal_size
            )
            if state_file and state_file.exists():
                sim.store.load(read_fixture(state_file), restore=True)
            else:
                sim.reset()
        except FixtureError as exc:
            raise ConfigError(f"raida-mock: {exc}") from None
        return sim

    # --- state --------------------------------------------------------------------------

    def reset(self) -> dict[str, int]:
        """Back to the seed, relative dates resolved as of now."""
        return self.load(self.seed_document)

    def load(self, fixture: Any) -> dict[str, int]:
        self.store.load(resolve(fixture, datetime.now(UTC)))
        self.save()
        return self.store.counts()

    def save(self) -> None:
        if self.state_file is None:
            return
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_name(f".{self.state_file.name}.tmp")
        tmp.write_text(json.dumps(self.store.snapshot(), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.state_file)

    # --- rendering ----------------------------------------------------------------------

    def file_view(self, item: Attachment) -> dict[str, Any]:
        return {
            "id": item.id,
            "name": item.name,
            "url": self.url_base + item.path(),
            "content_type": item.content_type,
        }

    def task_view(self, node: Node, task: Mapping[str, Any]) -> dict[str, Any]:
        """A task as Raida returns it: the stored fields plus its attachments, oldest first."""
        view = dict(task)
        view["attachments"] = [self.file_view(f) for f in self.store.task_files(node, task["id"])]
        return view
