"""Decisions on a registration's staff page: given with a reason, carried out after the grace
time (or at once with 0), `Cofnij` within it; never written into the sheet's decision column."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from config.services import Services, services
from config.settings import Settings
from registrations.models import StatusChange
from sheets.rows import DECISION_HEADER, ID_HEADER, STATUS_HEADER
from tests.conftest import OPEN, FakeClock, shown, valid_payload
from tests.sheet_harness import WorkbookStaff
from tests.staff_support import STAFF_LISTS, csrf, page, sign_in

REASON = "Zgłoszenie dotyczy osoby spoza przedsiębiorstwa społecznego"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            **STAFF_LISTS,
            "sheets_pull_interval_seconds": 0.001,
            "decision_grace_minutes": 5,
        }
    )


@pytest.fixture
def staff(app: Flask) -> FlaskClient:
    return sign_in(app.test_client())


@pytest.fixture
def person(client: FlaskClient) -> dict[str, Any]:
    response = client.post(f"/api/events/{OPEN}/registrations", json=valid_payload())
    assert response.status_code == 201
    body: dict[str, Any] = response.get_json()
    return body


def svc_of(app: Flask) -> Services:
    return services(app)


def path(registration_id: str) -> str:
    return f"/obsluga/zgloszenia/{registration_id}/decyzja"


def decide(staff: FlaskClient, registration_id: str, **form: str) -> Any:
    token = csrf(staff, path(registration_id))
    return staff.post(path(registration_id), data={"csrf_token": token, **form})


def withdraw(staff: FlaskClient, registration_id: str) -> Any:
    token = csrf(staff, path(registration_id))
    return staff.post(f"{path(registration_id)}/cofnij", data={"csrf_token": token})


def status(app: Flask, registration_id: str) -> str:
    return svc_of(app).registrations.by_id(registration_id).status


def rounds(app: Flask, n: int = 2) -> None:
    for _ in range(n):
        svc_of(app).worker.run_once()
    svc_of(app).mail_worker.run_once()


def mail_texts(app: Flask) -> list[str]:
    texts = []
    for eml in sorted((svc_of(app).instance_path / "mail").glob("*.eml")):
        message = message_from_bytes(eml.read_bytes(), policy=policy.default)
        body = message.get_body(("plain",))
        assert body is not None
        texts.append(f"{message['Subject']}\n{body.get_content()}")
    return texts


def test_a_page_decision_waits_and_cofnij_within_the_grace_time_does_nothing(
    app: Flask, staff: FlaskClient, person: dict[str, Any], clock: FakeClock
) -> None:
    answer = decide(staff, person["id"], decyzja="odrzucone", powod=REASON)
    shown_page = shown(staff.get(path(person["id"])))
    rounds(app)
    clock.advance(3 * 60)
    undone = withdraw(staff, person["id"])
    after = shown(staff.get(path(person["id"])))
    clock.advance(10 * 60)
    rounds(app)

    assert answer.status_code == 303
    assert "Decyzja zostanie wykonana o 14:05" in shown_page and "Cofnij" in shown_page
    assert undone.status_code == 303
    assert "Decyzja „odrzucone” została cofnięta." in after
    assert status(app, person["id"]) == "confirmed"
    assert not any("odrzucone" in text for text in mail_texts(app))


def test_a_page_decision_left_standing_is_carried_out_once_with_its_reason_not_in_the_sheet(
    app: Flask, staff: FlaskClient, person: dict[str, Any], clock: FakeClock, settings: Settings
) -> None:
    rounds(app)
    decide(staff, person["id"], decyzja="odrzucone", powod=REASON)
    rounds(app)
    waited = status(app, person["id"])
    clock.advance(5 * 60)
    rounds(app, 3)
    clock.advance(5 * 60)
    rounds(app, 3)
    too_late = withdraw(staff, person["id"])
    grid = WorkbookStaff(svc_of(app).instance_path).grid(svc_of(app).events[OPEN])

    assert waited == "confirmed"
    assert status(app, person["id"]) == "rejected"
    rejections = [text for text in mail_texts(app) if text.startswith("Zgłoszenie odrzucone")]
    assert len(rejections) == 1
    assert f"Powód: {REASON}." in rejections[0]
    follow = staff.get(too_late.headers["Location"])
    assert "Nie ma już decyzji do cofnięcia" in shown(follow)
    [row] = [r for r in grid[1:] if r[grid[0].index(ID_HEADER)] == person["id"]]
    assert row[grid[0].index(STATUS_HEADER)] == "odrzucone"
    decision_column = grid[0].index(DECISION_HEADER)
    assert (row[decision_column] if decision_column < len(row) else "") == ""


def test_a_page_decision_is_refused_in_polish_without_a_choice_or_with_a_long_reason(
    staff: FlaskClient, person: dict[str, Any]
) -> None:
    missing = decide(staff, person["id"], decyzja="", powod="")
    unknown = decide(staff, person["id"], decyzja="wyrzucić", powod="")
    long = decide(staff, person["id"], decyzja="odrzucone", powod="x" * 501)

    assert missing.status_code == unknown.status_code == long.status_code == 422
    assert "Należy wybrać decyzję: rezygnacja, odrzucone, przyjęte." in shown(missing)
    assert "Powód może mieć najwyżej 500 znaków." in shown(long)
    soup = page(long.data)
    assert soup.find("textarea", {"name": "powod"}) is not None


def test_an_unknown_registration_is_404_and_the_page_needs_a_signed_in_staff_member(
    client: FlaskClient, staff: FlaskClient, person: dict[str, Any]
) -> None:
    assert staff.get(path("R-0000-0000")).status_code == 404
    assert client.get(path(person["id"])).status_code in (302, 303)


def test_with_no_grace_a_page_decision_is_carried_out_at_once(
    tmp_path: Path, clock: FakeClock, settings: Settings
) -> None:
    from app import create_app

    app = create_app(settings.model_copy(update={"decision_grace_minutes": 0}), clock=clock)
    try:
        client = app.test_client()
        body = client.post(f"/api/events/{OPEN}/registrations", json=valid_payload()).get_json()
        staff = sign_in(app.test_client())
        answer = decide(staff, body["id"], decyzja="rezygnacja", powod="Telefon")
        assert "wykonana" in shown(staff.get(answer.headers["Location"]))
        assert status(app, body["id"]) == "cancelled"
    finally:
        svc_of(app).store.dispose()


def test_a_page_decision_over_one_waiting_in_the_sheet_takes_its_place_and_runs_once(
    app: Flask, staff: FlaskClient, person: dict[str, Any], clock: FakeClock
) -> None:
    rounds(app)
    sheet = WorkbookStaff(svc_of(app).instance_path)
    event = svc_of(app).events[OPEN]
    grid = sheet.grid(event)
    [row] = [i for i, r in enumerate(grid) if i and r[grid[0].index(ID_HEADER)] == person["id"]]
    sheet.set_cell(event, row, grid[0].index(DECISION_HEADER), "rezygnacja")
    rounds(app)  # the sheet's decision waits
    clock.advance(60)
    decide(staff, person["id"], decyzja="odrzucone", powod=REASON)
    for _ in range(3):
        clock.advance(5 * 60)
        rounds(app)

    assert status(app, person["id"]) == "rejected"
    with svc_of(app).store.transaction() as session:
        changes = session.scalars(
            select(StatusChange).where(StatusChange.registration_id == person["id"])
        ).all()
    assert [(c.new_status, c.decision) for c in changes] == [("rejected", "odrzucone")]
    rejections = [text for text in mail_texts(app) if text.startswith("Zgłoszenie odrzucone")]
    assert len(rejections) == 1 and REASON in rejections[0]
