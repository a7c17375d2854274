"""Offers never confirm above capacity (issue 19): 50 accepts, declines, cancellations and staff
decisions (`rezygnacja`, `odrzucone`) at once, over real HTTP and the sheet's operation, on
SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from config.services import Services
from config.settings import Settings
from registrations.decisions import Decision
from registrations.models import Participation, Registration
from registrations.operations import ChangeNotAllowed, NotFound
from registrations.participation import HOLDING
from tests.conftest import FakeClock, LiveServer, settings_on, valid_payload, write_event

CAPACITY = 5
EVENT = "autobus"
TOKEN = re.compile(r"/zgloszenie/([A-Za-z0-9_-]+)$")


@pytest.fixture
def events_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "events"
    write_event(
        folder,
        EVENT,
        capacity=CAPACITY,
        max_per_enterprise=100,
        registration_deadline="2018-08-26",
        short_title='"Autobus"',
    )
    return folder


@pytest.fixture
def settings(tmp_path: Path, events_dir: Path, database_url: str) -> Settings:
    return settings_on(tmp_path, events_dir, database_url)


def svc(app: Flask) -> Services:
    found: Services = app.extensions["owes"]
    return found


def seats(app: Flask) -> tuple[int, int]:
    """(confirmed, offers holding a seat) of the event."""
    with svc(app).store.reading() as session:
        confirmed = session.scalar(
            select(func.count()).where(
                Registration.event_slug == EVENT, Registration.status == "confirmed"
            )
        )
        holding = session.scalar(
            select(func.count()).where(
                Participation.event_slug == EVENT, Participation.offer_state.in_(HOLDING)
            )
        )
    return confirmed or 0, holding or 0


def answer(base: str, token: str, choice: str) -> int:
    """A participant opens the answer page and presses its button."""
    path = f"{base}/wydarzenia/{EVENT}/zgloszenie/{token}/udzial"
    with requests.Session() as http:
        page = http.get(path, params={"odpowiedz": choice}, timeout=60)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        if found is None:  # no button (no longer active): nothing to press
            return page.status_code
        sent = http.post(
            path,
            data={"csrf_token": found.group(1), "odpowiedz": choice},
            timeout=60,
            allow_redirects=False,
        )
        return sent.status_code


def test_fifty_answers_cancellations_and_decisions_at_once_never_exceed_capacity(
    app: Flask, live_server: LiveServer, clock: FakeClock
) -> None:
    base = live_server.url
    clock.set("2018-08-10T12:00:00+02:00")  # before the offers window
    people: list[dict[str, Any]] = []
    for i in range(30):
        response = requests.post(
            f"{base}/api/events/{EVENT}/registrations",
            json=valid_payload(email=f"o{i}@example.pl", enterprise_name=f"Firma {i}"),
            timeout=60,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        found = TOKEN.search(body["manage_url"])
        assert found
        people.append({**body, "token": found.group(1)})
    confirmed = [p for p in people if p["status"] == "confirmed"]
    waiting = [p for p in people if p["status"] == "waitlisted"]
    assert len(confirmed) == CAPACITY

    clock.set("2018-08-25T12:00:00+02:00")  # inside the window: freed seats are offered
    for person in confirmed[:2]:
        requests.delete(f"{base}/api/registrations/{person['token']}", timeout=60)
    svc(app).mail_worker.run_once()  # no SMTP: the offers are written as .eml files
    svc(app).worker.run_once()  # and opened from their hand-off
    assert seats(app) == (CAPACITY - 2, 2)
    event = svc(app).events[EVENT]

    def decide(person: dict[str, Any], decision: Decision) -> int:
        try:
            svc(app).registrations.decide(event, person["id"], decision, now=clock())
        except (NotFound, ChangeNotAllowed):
            return 404
        return 200

    jobs: list[Any] = []
    for person in waiting:  # every waiting person presses `tak` (two of them hold an offer)
        jobs.append(lambda p=person: answer(base, p["token"], "tak"))
    for person in waiting[:4]:  # … the offered ones twice
        jobs.append(lambda p=person: answer(base, p["token"], "tak"))
    for person in confirmed[2:4]:  # two confirmed decline: their seats are offered on
        jobs.append(lambda p=person: answer(base, p["token"], "nie"))
    jobs.append(lambda p=confirmed[4]: answer(base, p["token"], "tak"))
    for person in waiting[2:6]:  # staff decide on waiting people, some of them being offered
        jobs.append(lambda p=person: decide(p, Decision.CANCELLED))
    for person in waiting[6:9]:
        jobs.append(lambda p=person: decide(p, Decision.REJECTED))
    for person in waiting[20:25]:  # and some cancel by their link
        jobs.append(
            lambda p=person: (
                requests.delete(f"{base}/api/registrations/{p['token']}", timeout=60).status_code
            )
        )
    for i in range(30, 36):  # and newcomers register: they wait behind the waiting list

        def register(i: int = i) -> int:
            payload = valid_payload(email=f"o{i}@example.pl", enterprise_name=f"Firma {i}")
            url = f"{base}/api/events/{EVENT}/registrations"
            response = requests.post(url, json=payload, timeout=60)
            assert response.json()["status"] == "waitlisted"
            return response.status_code

        jobs.append(register)
    assert len(jobs) == 50
    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(lambda job: job(), jobs))
    assert all(code < 500 for code in codes), codes

    confirmed_now, holding = seats(app)
    assert confirmed_now + holding <= CAPACITY
    # The rounds after: offers handed over, opened, accepted; still never above capacity.
    for _ in range(3):
        svc(app).mail_worker.run_once()
        svc(app).worker.run_once()
        confirmed_now, holding = seats(app)
        assert confirmed_now + holding <= CAPACITY
    assert confirmed_now <= CAPACITY
