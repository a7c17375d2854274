"""The event's questions in the staff's registration pages (issues 17 and 18 wired): the answers'
columns of the table, messages to those who chose one answer, the questions on `Dodaj
zgłoszenie` and on corrections. Through the pages with a signed-in session, the real store, the
workbook and the outbox's .eml files."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from config.services import services
from config.settings import Settings
from registrations.desk_models import StaffMessageRecipient
from registrations.question_editing import QuestionEditor, QuestionForm
from sheets.rows import HEADERS
from tests.conftest import OPEN, FakeClock, shown, valid_payload
from tests.staff_support import COORDINATOR, STAFF_LISTS, csrf, page, sign_in

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

STOPS = "Żary, dworzec PKP | 10 | odjazd 7:00\nZielona Góra, Dworcowa | 1 | odjazd 8:00\nNowa Sól"
STOP = "miejsce_wsiadania"
TABLE = f"/obsluga/wydarzenia/{OPEN}/zgloszenia"
MESSAGES = f"/obsluga/wydarzenia/{OPEN}/wiadomosci"


@pytest.fixture
def settings(settings: Settings, database_url: str) -> Settings:
    """Every test on SQLite and on PostgreSQL."""
    return settings.model_copy(update={**STAFF_LISTS, "database_url": database_url})


@pytest.fixture
def office(app: Flask) -> FlaskClient:
    return sign_in(app.test_client())


@pytest.fixture
def questions(app: Flask, clock: FakeClock) -> None:
    """The open event asks where one boards, which meals, whether one returns by bus, the
    arrival date; and a hidden question (its answers stay, it is no column of the table)."""
    svc = services(app)
    editor = QuestionEditor(svc.store, HEADERS)
    event = svc.events[OPEN]
    for form in (
        QuestionForm("Miejsce wsiadania", "wybor", choices=STOPS),
        QuestionForm("Posiłki", "wiele", choices="obiad\nkolacja"),
        QuestionForm("Autokar z powrotem", "tak_nie"),
        QuestionForm("Dzień przyjazdu", "data"),
        QuestionForm("Ukryte pytanie", "tekst"),
    ):
        editor.add(event, form, by=COORDINATOR, now=clock.now)


def _hide(app: Flask, key: str, clock: FakeClock) -> None:
    svc = services(app)
    QuestionEditor(svc.store, HEADERS).set_hidden(
        svc.events[OPEN], key, True, by=COORDINATOR, now=clock.now
    )


def _register(app: Flask, n: int, first_name: str, **answers: Any) -> str:
    response = app.test_client().post(
        f"/api/events/{OPEN}/registrations",
        json=valid_payload(
            email=f"p{n}@example.pl",
            first_name=first_name,
            enterprise_name=f"Spółdzielnia {n}",
            answers=answers,
        ),
    )
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def _mails(app: Flask) -> list[EmailMessage]:
    found = []
    for path in sorted((services(app).instance_path / "mail").glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


# -- 1. the table's columns ------------------------------------------------------------------


def test_the_table_has_a_column_per_visible_question_shown_as_the_sheet_shows_it(
    app: Flask, office: FlaskClient, questions: None, clock: FakeClock
) -> None:
    answered = _register(
        app,
        0,
        "Żaneta",
        miejsce_wsiadania="zary_dworzec_pkp",
        posilki=["kolacja", "obiad"],
        autokar_z_powrotem=False,
        dzien_przyjazdu="2030-03-04",
        ukryte_pytanie="tajne",
    )
    silent = _register(app, 1, "Adam")
    _hide(app, "ukryte_pytanie", clock)

    soup = page(office.get(TABLE).data)
    headers = [th.get_text(strip=True) for th in soup.select("thead th")]
    assert headers[-4:] == ["Miejsce wsiadania", "Posiłki", "Autokar z powrotem", "Dzień przyjazdu"]
    assert "Ukryte pytanie" not in headers
    cells = {
        tr.select("td")[0].get_text(strip=True): [td.get_text(strip=True) for td in tr("td")]
        for tr in soup.select("tbody tr")
    }
    assert cells[answered][-4:] == ["Żary, dworzec PKP", "obiad, kolacja", "nie", "04.03.2030"]
    assert cells[silent][-4:] == ["", "", "", ""]
    assert "tajne" not in shown(office.get(TABLE))
    # Still a region that scrolls on a phone, with its name for a screen reader.
    region = soup.select_one("div.table-scroll[role=region]")
    assert region is not None and region.select_one("table") is not None

    # A search narrows the rows, the answers' columns stay in step.
    found = page(office.get(TABLE, query_string={"q": "Adam"}).data).select("tbody tr")
    assert [td.get_text(strip=True) for td in found[0]("td")][-4:] == ["", "", "", ""]


def test_an_event_without_questions_has_only_the_service_columns(
    app: Flask, office: FlaskClient
) -> None:
    _register(app, 0, "Żaneta")
    headers = [th.get_text(strip=True) for th in page(office.get(TABLE).data).select("thead th")]
    assert headers[-1] == "Miejsce na liście rezerwowej"


# -- 2. messages by a `wybor` answer ---------------------------------------------------------


def _message_form(office: FlaskClient, **data: Any) -> dict[str, Any]:
    form = {"subject": "Zbiórka w Żarach", "body": "Dzień dobry,\n{imie}, zbiórka o 7:00."}
    form.update(data)
    form["csrf_token"] = csrf(office, MESSAGES)
    return form


def _send_form(preview: Any) -> dict[str, str]:
    soup = page(preview.data)
    return {
        str(i["name"]): str(i.get("value", ""))
        for i in soup.select("form input[type=hidden]")
        if i.find_parent("form").select_one("input[name=step][value=wyslij]")  # type: ignore[union-attr]
    }


def test_a_message_to_those_boarding_at_one_stop_reaches_exactly_them(
    app: Flask, office: FlaskClient, questions: None
) -> None:
    zary = [
        _register(app, 0, "Żaneta", miejsce_wsiadania="zary_dworzec_pkp"),
        _register(app, 1, "Adam", miejsce_wsiadania="zary_dworzec_pkp"),
    ]
    _register(app, 2, "Ewa", miejsce_wsiadania="zielona_gora_dworcowa")
    waiting = _register(app, 3, "Jan", miejsce_wsiadania="zary_dworzec_pkp")  # 4th of 3 seats
    services(app).mail_worker.run_once()
    before = len(_mails(app))

    compose = page(office.get(MESSAGES).data)
    select_ = compose.select_one(f"select[name='wybor.{STOP}']")
    assert select_ is not None
    assert [o.get_text(strip=True) for o in select_("option")] == [
        "wszyscy",
        "Żary, dworzec PKP",
        "Zielona Góra, Dworcowa",
        "Nowa Sól",
    ]
    label = compose.select_one(f"label[for='wybor.{STOP}']")
    assert label is not None and "Miejsce wsiadania" in label.get_text()

    # All active boarding in Żary: the waiting one too.
    active = office.post(
        MESSAGES,
        data=_message_form(
            office, step="podglad", group="aktywne", **{f"wybor.{STOP}": "zary_dworzec_pkp"}
        ),
    )
    assert active.status_code == 200, shown(active)
    assert "Odbiorcy: 3" in page(active.data).get_text(" ", strip=True)

    # The confirmed boarding in Żary: exactly those two, once each.
    preview = office.post(
        MESSAGES,
        data=_message_form(office, step="podglad", **{f"wybor.{STOP}": "zary_dworzec_pkp"}),
    )
    text = page(preview.data).get_text(" ", strip=True)
    assert "Odbiorcy: 2" in text and "Miejsce wsiadania: Żary, dworzec PKP" in text
    send_form = _send_form(preview)
    assert send_form[f"wybor.{STOP}"] == "zary_dworzec_pkp"
    sent = office.post(MESSAGES, data=send_form)
    assert sent.status_code == 200 and "Wiadomość wysłana" in shown(sent)
    assert "nic więcej nie zostało wysłane" in shown(office.post(MESSAGES, data=send_form))

    services(app).mail_worker.run_once()
    new = _mails(app)[before:]
    assert sorted(str(m["To"]) for m in new) == ["p0@example.pl", "p1@example.pl"]
    with services(app).store.reading() as session:
        got = list(session.scalars(select(StaffMessageRecipient.registration_id)))
    assert sorted(got) == sorted(zary) and waiting not in got


def test_a_choice_nobody_picked_or_that_is_not_there_is_refused_in_polish(
    app: Flask, office: FlaskClient, questions: None
) -> None:
    _register(app, 0, "Żaneta", miejsce_wsiadania="zary_dworzec_pkp")
    nobody = office.post(
        MESSAGES, data=_message_form(office, step="podglad", **{f"wybor.{STOP}": "nowa_sol"})
    )
    assert nobody.status_code == 422 and "nie ma odbiorców" in shown(nobody)
    wrong = office.post(
        MESSAGES, data=_message_form(office, step="podglad", **{f"wybor.{STOP}": "berlin"})
    )
    assert wrong.status_code == 422
    assert "Miejsce wsiadania: Nie ma takiej odpowiedzi" in page(wrong.data).get_text(" ")
    assert 'option value="zary_dworzec_pkp"' in shown(wrong)
