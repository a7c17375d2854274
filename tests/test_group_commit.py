"""Concurrent submissions of one event share a transaction, yet each gets its own answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from config.services import services
from config.settings import Settings
from registrations import operations
from registrations.allocation import lock_event
from registrations.group_commit import GroupCommit, Take
from registrations.models import EventState, Registration
from registrations.notices import Notice
from registrations.operations import AlreadyRegistered, Invalid, Registrations
from registrations.question_editing import QuestionEditor, QuestionForm
from registrations.status import Status
from registrations.tokens import LinkTokens
from sheets.rows import HEADERS
from tests.conftest import OPEN, settings_on, valid_payload

NOW = datetime(2018, 8, 20, 12, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path, events_dir: Path, database_url: str) -> Settings:
    """On SQLite and PostgreSQL: there a batch's writes ride with its commit (`commit_with`)."""
    return settings_on(tmp_path, events_dir, database_url)


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the submissions never queued"
        time.sleep(0.005)


def queued_in(registrations: Registrations) -> int:
    """Submissions waiting for the open event's next batch."""
    return len(registrations._intake._queued.get(OPEN, []))


def upper(items: Sequence[str]) -> list[str | Exception]:
    return [ValueError(item) if item.startswith("bad") else item.upper() for item in items]


class HeldFirstBatch:
    """A commit that holds its first batch until released, recording every batch it gets."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.batches: list[list[str]] = []

    def __call__(self, take: Take[str]) -> list[str | Exception]:
        items = take()
        self.batches.append(list(items))
        if len(self.batches) == 1:
            self.release.wait(10)
        return upper(items)


class WaitsForItsLock:
    """A commit that, like the real one, takes its batch only once it holds the event's lock."""

    def __init__(self) -> None:
        self.locked = threading.Event()
        self.batches: list[list[str]] = []

    def __call__(self, take: Take[str]) -> list[str | Exception]:
        self.locked.wait(10)
        items = take()
        self.batches.append(list(items))
        return upper(items)


def test_submissions_queued_during_a_commit_share_the_next_one_in_arrival_order() -> None:
    group: GroupCommit[str, str] = GroupCommit()
    commit = HeldFirstBatch()
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(group.run, "event", "first", commit)]
        wait_until(lambda: len(commit.batches) == 1)
        for item in ("a", "b", "c"):
            futures.append(pool.submit(group.run, "event", item, commit))
            wait_until(lambda: len(group._queued.get("event", [])) == len(futures) - 1)
        commit.release.set()
        answers = [future.result(timeout=10) for future in futures]
    assert commit.batches == [["first"], ["a", "b", "c"]]
    assert answers == ["FIRST", "A", "B", "C"]


def test_submissions_queued_while_the_leader_waits_for_the_lock_share_its_commit() -> None:
    group: GroupCommit[str, str] = GroupCommit()
    commit = WaitsForItsLock()
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(group.run, "event", "first", commit)]
        wait_until(lambda: "event" in group._leading)
        for item in ("a", "b", "c"):
            futures.append(pool.submit(group.run, "event", item, commit))
            wait_until(lambda: len(group._queued.get("event", [])) == len(futures))
        commit.locked.set()
        answers = [future.result(timeout=10) for future in futures]
    assert commit.batches == [["first", "a", "b", "c"]]
    assert answers == ["FIRST", "A", "B", "C"]


def test_a_batch_that_fails_waiting_for_the_lock_tells_everyone_queued() -> None:
    group: GroupCommit[str, str] = GroupCommit()
    gate = threading.Event()

    def unreachable(take: Take[str]) -> list[str | Exception]:
        gate.wait(10)
        raise RuntimeError("database gone")

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(group.run, "event", "first", unreachable)
        wait_until(lambda: "event" in group._leading)
        second = pool.submit(group.run, "event", "second", unreachable)
        wait_until(lambda: len(group._queued.get("event", [])) == 2)
        gate.set()
        for future in (first, second):
            with pytest.raises(RuntimeError, match="database gone"):
                future.result(timeout=10)
    assert group.run("event", "next", lambda take: upper(take())) == "NEXT"


def test_an_item_that_fails_fails_alone() -> None:
    group: GroupCommit[str, str] = GroupCommit()
    commit = HeldFirstBatch()
    with ThreadPoolExecutor(max_workers=3) as pool:
        first = pool.submit(group.run, "event", "first", commit)
        wait_until(lambda: len(commit.batches) == 1)
        bad = pool.submit(group.run, "event", "bad", commit)
        wait_until(lambda: len(group._queued.get("event", [])) == 1)
        good = pool.submit(group.run, "event", "good", commit)
        wait_until(lambda: len(group._queued.get("event", [])) == 2)
        commit.release.set()
        assert first.result(timeout=10) == "FIRST"
        assert good.result(timeout=10) == "GOOD"
        with pytest.raises(ValueError, match="bad"):
            bad.result(timeout=10)
    assert commit.batches == [["first"], ["bad", "good"]]


def test_a_batch_that_fails_tells_everyone_in_it_and_the_next_one_still_runs() -> None:
    group: GroupCommit[str, str] = GroupCommit()

    def broken(take: Take[str]) -> list[str | Exception]:
        take()
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError, match="database gone"):
        group.run("event", "one", broken)
    assert group.run("event", "two", lambda take: upper(take())) == "TWO"


class HoldingNotify:
    """The outbox's place in the transaction: holds the first batch, records each session."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.sessions: list[tuple[int, str]] = []

    def __call__(self, session: Session, notices: Sequence[Notice]) -> None:
        first = not self.sessions
        self.sessions.extend((id(session), n.registration.email) for n in notices)
        if first:
            self.release.wait(10)


def test_concurrent_registrations_commit_together_and_a_duplicate_among_them_fails_alone(
    app: Flask,
) -> None:
    svc = services(app)
    notify = HoldingNotify()
    registrations = Registrations(svc.store, LinkTokens("t"), notify)
    event = svc.events[OPEN]  # 3 seats

    def submit(email: str) -> Registration:
        payload = valid_payload(email=email, enterprise_name=f"Spółdzielnia {email[0]}")
        return registrations.submit(event, payload, source="api", now=svc.now())

    emails = ["a@example.pl", "b@example.pl", "c@example.pl", "b@example.pl", "d@example.pl"]
    futures: list[Future[Registration]] = []
    with ThreadPoolExecutor(max_workers=len(emails)) as pool:
        futures.append(pool.submit(submit, emails[0]))
        wait_until(lambda: len(notify.sessions) == 1)
        for queued, email in enumerate(emails[1:], start=1):
            futures.append(pool.submit(submit, email))
            wait_until(lambda n=queued: queued_in(registrations) == n)  # type: ignore[misc]
        notify.release.set()
        assert isinstance(futures[3].exception(timeout=10), AlreadyRegistered)
        a, b, c, d = [futures[i].result(timeout=10) for i in (0, 1, 2, 4)]

    assert [r.status for r in (a, b, c, d)] == [
        Status.CONFIRMED,
        Status.CONFIRMED,
        Status.CONFIRMED,
        Status.WAITLISTED,
    ]
    assert registrations.waiting_position(d) == 1
    second_batch = {session for session, _ in notify.sessions[1:]}
    assert len(second_batch) == 1  # b, c and d in one transaction
    assert [email for _, email in notify.sessions] == [
        "a@example.pl",
        "b@example.pl",
        "c@example.pl",
        "d@example.pl",
    ]
    stored = {r.email for r in (a, b, c, d)}
    assert {registrations.by_id(r.id).email for r in (a, b, c, d)} == stored


def test_a_batch_the_database_refuses_is_retried_one_by_one(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = services(app)
    notify = HoldingNotify()
    registrations = Registrations(svc.store, LinkTokens("t"), notify)
    event = svc.events[OPEN]
    ids = iter(["R-AAAA-AAAA", "R-AAAA-AAAA", "R-BBBB-BBBB", "R-CCCC-CCCC", "R-DDDD-DDDD"])
    monkeypatch.setattr(operations, "new_registration_id", lambda: next(ids))

    def submit(email: str) -> Registration:
        payload = valid_payload(email=email, enterprise_name=f"Spółdzielnia {email[0]}")
        return registrations.submit(event, payload, source="api", now=svc.now())

    with ThreadPoolExecutor(max_workers=3) as pool:
        first = pool.submit(submit, "a@example.pl")
        wait_until(lambda: len(notify.sessions) == 1)
        clashing = pool.submit(submit, "b@example.pl")  # its ID is taken: the batch fails
        wait_until(lambda: queued_in(registrations) == 1)
        other = pool.submit(submit, "c@example.pl")
        wait_until(lambda: queued_in(registrations) == 2)
        notify.release.set()
        answers = [future.result(timeout=10) for future in (first, clashing, other)]

    assert [r.id for r in answers] == ["R-AAAA-AAAA", "R-CCCC-CCCC", "R-DDDD-DDDD"]
    assert [registrations.by_id(r.id).email for r in answers] == [
        "a@example.pl",
        "b@example.pl",
        "c@example.pl",
    ]


def test_registrations_that_queue_while_the_event_is_locked_are_committed_together(
    app: Flask,
) -> None:
    svc = services(app)
    notify = HoldingNotify()
    notify.release.set()  # record only
    registrations = Registrations(svc.store, LinkTokens("t"), notify)
    event = svc.events[OPEN]

    def submit(email: str) -> Registration:
        payload = valid_payload(email=email, enterprise_name=f"Spółdzielnia {email[0]}")
        return registrations.submit(event, payload, source="api", now=svc.now())

    emails = ["a@example.pl", "b@example.pl", "c@example.pl"]
    unlock = threading.Event()
    locked = threading.Event()

    def hold_the_event() -> None:  # staff's change, say, holding the event's lock
        with svc.store.transaction() as session:
            lock_event(session, event)
            locked.set()
            unlock.wait(10)

    with ThreadPoolExecutor(max_workers=len(emails) + 1) as pool:
        holder = pool.submit(hold_the_event)
        assert locked.wait(10)
        futures = [pool.submit(submit, email) for email in emails]
        wait_until(lambda: queued_in(registrations) == len(emails))
        unlock.set()
        holder.result(timeout=10)
        answers = [future.result(timeout=10) for future in futures]

    assert {session for session, _ in notify.sessions} == {notify.sessions[0][0]}
    assert sorted(email for _, email in notify.sessions) == emails
    assert [r.status for r in answers] == [Status.CONFIRMED] * 3


def test_an_event_without_its_state_row_gets_one_with_its_first_registration(app: Flask) -> None:
    svc = services(app)
    with svc.store.transaction() as session:  # an event file added since the store was prepared
        session.execute(delete(EventState).where(EventState.slug == OPEN))
    event = svc.events[OPEN]

    registered = svc.registrations.submit(event, valid_payload(), source="api", now=svc.now())

    assert registered.status == Status.CONFIRMED
    with svc.store.reading() as session:
        assert session.get(EventState, OPEN) is not None


def test_questions_staff_changed_after_a_submission_was_checked_are_applied_under_the_lock(
    app: Flask,
) -> None:
    svc = services(app)
    event = svc.events[OPEN]
    editor = QuestionEditor(svc.store, HEADERS)
    editor.add(event, QuestionForm("Posiłki", "wiele", choices="obiad\nkolacja"), by="t", now=NOW)
    registrations = Registrations(svc.store, LinkTokens("t"))
    registrations.intake_questions(event)  # what this process checks submissions against

    # Another process saves the questions: the meals asked anew (the same key, another
    # question), and one more, optional.
    editor.delete(event, "posilki", by="t", now=NOW)
    editor.add(event, QuestionForm("Posiłki", "wiele", choices="obiad\nkolacja"), by="t", now=NOW)
    editor.add(event, QuestionForm("Z kim chcę dzielić pokój", "tekst"), by="t", now=NOW)
    answers = {"posilki": ["obiad"], "z_kim_chce_dzielic_pokoj": "Anna Kowalska"}
    kept = registrations.submit(
        event, valid_payload(answers={"posilki": ["obiad"]}), source="api", now=svc.now()
    )
    assert registrations.answers(kept) == {"posilki": ["obiad"]}

    # And then a required one: a submission checked against the earlier questions is refused.
    editor.add(event, QuestionForm("Parking", "tak_nie", required=True), by="t", now=NOW)
    with pytest.raises(Invalid) as refused:
        registrations.submit(
            event, valid_payload(email="b@example.pl", answers=answers), source="api", now=svc.now()
        )
    assert set(refused.value.errors) == {"answers.parking"}
    with svc.store.reading() as session:
        assert session.scalar(select(func.count()).select_from(Registration)) == 1
