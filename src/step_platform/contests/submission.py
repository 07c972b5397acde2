"""Sending a solution (route 10) all or nothing, as far as Raida's API allows.

The original uploaded the file and then PATCHed the application to completed: a failed PATCH
left an orphan attachment on a still open application, a retry added another (and history shows
the first), and two senders on two instances both uploaded. Raida has no transactions, no
conditional writes and no way to delete an attachment, so the upload -- the one write that
cannot be undone -- goes last, and everything before it is undone when something fails:

1. **Claim**: one PATCH sets the status to completed and adds a custom field of this send's own,
   `solution_claim_<hex>: "<UTC time>"`. Raida answers a PATCH with the task as that write left
   it, so any other live claim in the answer landed *before* ours: then another sender holds
   the application, ours is released (set to null) and the caller gets 400 `TASK_COMPLETED`.
   Of concurrent senders on any number of step instances, the first claim to land goes on
   (a plain read after the PATCH could not tell this: it also shows claims that landed later).
   The claim writes no `solution_link`/`comments`, so a losing sender never overwrites the
   winner's.
2. **Check**: one read confirms the claim is still there (it always is with a Raida that
   applies a PATCH atomically; one that merged custom fields by an unlocked read-modify-write
   could have let a concurrent claim overwrite it -- that sender then stops here).
3. **Fields**: `solution_link`/`comments` are PATCHed, when given.
4. **Upload**: the file goes to Raida. If that fails, the application is read once more: a new
   attachment there means Raida stored the file and only its answer was lost, and the send is
   complete. Otherwise steps 1-3 are undone with one PATCH: the status it had before, the fields
   as they were (an absent field becomes null: Raida merges custom fields and cannot drop one)
   and the claim released.

A claim counts for `claim_lease` after its time stamp, then it is ignored, so a claim that was
never released (a failed release, a process killed mid-send, an application reopened in Raida
after a send) blocks nobody for long. The lease only has to outlast the time a competing
sender needs from reading the application as open to landing its claim (two calls).

What Raida's API still allows, each logged on `step_platform.contests.submission`:

* the undo fails twice (it is idempotent, so it is retried once): the application stays
  completed without the file and further sends are refused (ERROR, with the PATCH that
  restores it);
* the claim PATCH fails and Raida may have applied it anyway (timeout, 5xx, dropped connection)
  or answers without the task: the application is read back; our claim alone there is undone,
  next to another only released; if that read fails too, an applied claim stays (ERROR);
* the upload fails, Raida stored the file nevertheless and the read-back fails as well: the undo
  leaves the file on the reopened application, as the original did (WARNING);
* the arbitration assumes Raida answers a PATCH with the state that write left (raida-mock
  does; the spec recommends it). A Raida answering with a later read could show every
  concurrent sender a later claim, and all of them would lose, leaving the application
  completed without a file;
* a Raida whose PATCH is not atomic *and* whose overwriting write lands after the other
  sender's check, a PATCH Raida applies after step gave up waiting for it, or a withdraw
  (route 9) on another instance racing a send: the last write wins, as for any Raida client.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from ..core.upstream import UpstreamBadResponse, UpstreamError
from .forms import Solution
from .presenters import custom_fields
from .raida_client import UPSTREAM, RaidaClient

log = logging.getLogger("step_platform.contests.submission")

CLAIM_PREFIX = "solution_claim_"
MIN_CLAIM_LEASE = timedelta(minutes=5)
COMPENSATION_ATTEMPTS = 2


def claim_lease(deadline: float) -> timedelta:
    """How long a claim counts: a competing sender lands within two calls of `deadline` each."""
    return max(MIN_CLAIM_LEASE, timedelta(seconds=4 * deadline))


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Claim:
    key: str
    at: datetime

    @classmethod
    def new(cls, now: datetime) -> Claim:
        return cls(CLAIM_PREFIX + uuid.uuid4().hex, now)

    @property
    def value(self) -> str:
        return self.at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def live_claims(task: dict[str, Any], *, now: datetime, lease: timedelta) -> set[str]:
    """The claim fields of `task` younger than `lease` (released or unreadable ones are not)."""
    live = set()
    for key, value in custom_fields(task).items():
        if not key.startswith(CLAIM_PREFIX) or not isinstance(value, str):
            continue
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            continue
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        if now - at < lease:
            live.add(key)
    return live


class Verdict(Enum):
    HELD = "held"  # ours is the only live claim
    LOST = "lost"  # ours is there, and so is another
    ABSENT = "absent"  # ours is not there (not applied, or an answer without the task)


def verdict(task: Any, claim: Claim, *, now: datetime, lease: timedelta) -> Verdict:
    """What a view of the application says about `claim`.

    In Raida's answer to the claim PATCH every other live claim landed before ours, so HELD
    there means we were first. In a later read, HELD still means nobody else can hold the
    application (a later claimant saw ours and lost), which is what undoing needs.
    """
    if not isinstance(task, dict):
        return Verdict.ABSENT
    live = live_claims(task, now=now, lease=lease)
    if claim.key not in live:
        return Verdict.ABSENT
    return Verdict.HELD if live == {claim.key} else Verdict.LOST


class ClaimLost(Exception):
    """Another sender holds the application (its claim landed first)."""


def attachment_ids(task: dict[str, Any] | None) -> set[str] | None:
    """Ids of the task's attachments, or None when the task object does not carry them."""
    if task is None or not isinstance(task.get("attachments"), list):
        return None
    return {
        a["id"] for a in task["attachments"] if isinstance(a, dict) and isinstance(a.get("id"), str)
    }


class Submission:
    """One send of a solution to an application the caller owns and that is still open."""

    def __init__(
        self,
        raida: RaidaClient,
        node: str,
        task: dict[str, Any],
        solution: Solution,
        *,
        completed: str,
        lease: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.raida = raida
        self.node = node
        self.task_id = solution.task_id
        self.solution = solution
        self.completed = completed
        self.lease = lease
        self.clock = clock
        self.prior_status = task["status"]["id"]
        self.fields = {
            key: value
            for key, value in (
                ("solution_link", solution.solution_link),
                ("comments", solution.comments),
            )
            if value
        }
        before = custom_fields(task)
        self.prior_fields = {key: before.get(key) for key in self.fields}
        self.prior_files = attachment_ids(task)
        self.claim = Claim.new(clock())

    def _verdict(self, task: Any) -> Verdict:
        return verdict(task, self.claim, now=self.clock(), lease=self.lease)

    async def run(self) -> None:
        """Claim, write the fields, upload; `ClaimLost` or the upstream error otherwise."""
        await self._claim()
        try:
            await self._confirm()
            if self.fields:
                await self.raida.patch_task(self.node, self.task_id, {"custom_fields": self.fields})
            await self._upload()
        except ClaimLost:
            raise
        except (Exception, asyncio.CancelledError):  # cancelled: past the request deadline
            await self._undo(fields=bool(self.fields))
            raise

    async def _claim(self) -> None:
        body = {"status_id": self.completed, "custom_fields": {self.claim.key: self.claim.value}}
        try:
            answer = await self.raida.patch_task(self.node, self.task_id, body)
        except UpstreamError:
            await self._settle_unknown_claim()
            raise
        found = self._verdict(answer)
        if found is Verdict.HELD:
            return
        if found is Verdict.LOST:
            log.info("send %s: another sender holds the application; releasing", self.task_id)
            await self._release()
            raise ClaimLost()
        await self._settle_unknown_claim()
        raise UpstreamBadResponse(UPSTREAM, "task update: the answer lacks the updated task")

    async def _confirm(self) -> None:
        """Read back that our claim is still there before writing anything else.

        With raida-mock (a PATCH applied and answered atomically) it always is. A Raida that
        merged custom fields by read-modify-write without a lock could let a concurrent claim
        overwrite ours while both answers show each alone; the one whose claim vanished stops
        here (it wrote nothing but the status the other one holds).
        """
        task = await self.raida.get_task(self.node, self.task_id)
        if self._verdict(task) is Verdict.ABSENT:
            log.warning(
                "send %s: our claim was overwritten by a concurrent one; not sending", self.task_id
            )
            raise ClaimLost()

    async def _settle_unknown_claim(self) -> None:
        """The claim PATCH failed or its answer says nothing: read back whether it was applied."""
        try:
            task = await self.raida.get_task(self.node, self.task_id)
        except UpstreamError:
            log.error(
                "send %s: the claim %s may have been applied and the application cannot be "
                "read back; if it shows completed without a file, restore status %s by hand",
                self.task_id,
                self.claim.key,
                self.prior_status,
            )
            return
        found = self._verdict(task)
        if found is Verdict.HELD:
            await self._undo(fields=False)
        elif found is Verdict.LOST:
            log.warning("send %s: the claim was applied next to another; releasing", self.task_id)
            await self._release()

    async def _upload(self) -> None:
        try:
            await self.raida.upload_attachment(self.node, self.task_id, self.solution.upload)
        except UpstreamError:
            if not await self._stored_anyway():
                raise
            log.warning(
                "send %s: the upload failed but Raida stored the file; the send is complete",
                self.task_id,
            )

    async def _stored_anyway(self) -> bool:
        """Whether a failed upload left a new attachment (only the claim holder uploads)."""
        try:
            task = await self.raida.get_task(self.node, self.task_id)
        except UpstreamError:
            log.warning(
                "send %s: the upload failed and the application cannot be read back; undoing "
                "the claim (if Raida stored the file after all, it stays on the application)",
                self.task_id,
            )
            return False
        before, after = self.prior_files, attachment_ids(task)
        return before is not None and after is not None and bool(after - before)

    async def _undo(self, *, fields: bool) -> None:
        """Back to how the application was before this send (as far as a PATCH can)."""
        custom: dict[str, Any] = {self.claim.key: None}
        if fields:
            custom.update(self.prior_fields)
        body = {"status_id": self.prior_status, "custom_fields": custom}
        if await self._compensate(body, "undo the claim"):
            log.info("send %s: failed; the application is back in its status", self.task_id)
            return
        log.error(
            "send %s: failed and could not be undone; the application stays completed without "
            "a file and further sends are refused: restore it by hand with PATCH %s",
            self.task_id,
            body,
        )

    async def _release(self) -> None:
        body = {"custom_fields": {self.claim.key: None}}
        if not await self._compensate(body, "release the claim"):
            log.warning(
                "send %s: the claim %s stays live for %s; it blocks sends only if the "
                "application is reopened meanwhile",
                self.task_id,
                self.claim.key,
                self.lease,
            )

    async def _compensate(self, body: dict[str, Any], what: str) -> bool:
        """A compensating PATCH (idempotent, so tried twice); never raises."""
        for attempt in range(1, COMPENSATION_ATTEMPTS + 1):
            try:
                await self.raida.patch_task(self.node, self.task_id, body)
                return True
            except UpstreamError as exc:
                log.warning(
                    "send %s: attempt %s to %s failed: %s", self.task_id, attempt, what, exc.reason
                )
        return False
