"""Group commit: concurrent submissions of one event share one transaction and one commit.

A durable commit (an fsync, the event's lock) costs the same for one registration as for
twenty. The threads of a process that submit to the same event at the same moment queue here;
the first one in leads: it gets the event's lock, then takes everyone queued by then (those who
came while it waited for the lock too), commits them in one transaction, hands each its own
outcome, and passes the lead to the first who queued meanwhile. Nobody is answered before the
transaction holding their registration committed; arrival order is kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
Take = Callable[[], Sequence[Item]]
Commit = Callable[[Take[Item]], Sequence[Result | Exception]]


class _Slot(Generic[Item, Result]):
    """One waiting submission: its item, then its outcome (or the lead)."""

    def __init__(self, item: Item) -> None:
        self.item = item
        self.ready = threading.Event()
        self.leads = False
        self.result: Result | None = None
        self.error: BaseException | None = None

    def outcome(self) -> Result:
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


class GroupCommit(Generic[Item, Result]):
    """Runs `commit` over every item queued under the same key, one batch at a time per key.

    `commit` gets `take`, which hands it the items queued so far in arrival order (the first
    call takes them off the queue, a later one returns the same). It calls `take` once it
    holds whatever the batch waits for (the event's lock), so everyone who queued meanwhile
    rides along; it returns one outcome per item taken: its result, or the exception that item
    alone raises (a duplicate fails only its own submission).
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._queued: dict[Hashable, list[_Slot[Item, Result]]] = {}
        self._leading: set[Hashable] = set()

    def run(self, key: Hashable, item: Item, commit: Commit[Item, Result]) -> Result:
        slot: _Slot[Item, Result] = _Slot(item)
        with self._guard:
            self._queued.setdefault(key, []).append(slot)
            if key not in self._leading:
                self._leading.add(key)
                slot.leads = True
        if not slot.leads:
            slot.ready.wait()
        if slot.leads:  # first in, or handed the lead: its own item is among those queued
            self._lead(key, commit)
        return slot.outcome()

    def _lead(self, key: Hashable, commit: Commit[Item, Result]) -> None:
        batch: list[_Slot[Item, Result]] = []

        def take() -> list[Item]:
            if not batch:
                with self._guard:
                    batch.extend(self._queued.pop(key))
            return [slot.item for slot in batch]

        try:
            outcomes = commit(take)
            for slot, outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, Exception):
                    slot.error = outcome
                else:
                    slot.result = outcome
        except BaseException as exc:  # the whole batch failed: every one of them is told
            take()  # those queued, if it failed before taking them (waiting for the lock)
            for slot in batch:
                slot.error = exc
        finally:
            with self._guard:
                waiting = self._queued.get(key)
                if waiting:
                    waiting[0].leads = True
                    waiting[0].ready.set()
                else:
                    self._leading.discard(key)
            for slot in batch:
                if not slot.leads:
                    slot.ready.set()
