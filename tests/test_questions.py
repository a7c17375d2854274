"""The event's own questions: keys, labels, answers' rules, and the JSON API with them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from registrations.answers import (
    Answer,
    answers_for,
    choice_of,
    registrations_choosing,
)
from registrations.event import Event
from registrations.models import Registration
from registrations.question_editing import QuestionEditor, QuestionForm
from registrations.questions import (
    Choice,
    Kind,
    Question,
    QuestionError,
    check_answers,
    check_label,
    display,
    key_for,
    parse_choices,
)
from sheets.rows import HEADERS
from store import Store
from tests.conftest import KLASTER, FakeClock, valid_payload

URL = f"/api/events/{KLASTER}/registrations"
STOPS = "Żary, dworzec PKP | 1 | odjazd 7:00\nZielona Góra, Dworcowa | | odjazd 8:00"


# -- pure rules ------------------------------------------------------------------------------


def test_keys_are_labels_folded_to_ascii_snake_case_with_a_number_on_a_clash() -> None:
    assert key_for("Miejsce wsiadania", []) == "miejsce_wsiadania"
    assert key_for("Z kim chcę dzielić pokój?", []) == "z_kim_chce_dzielic_pokoj"
    assert key_for("Łódź – Żagań", []) == "lodz_zagan"
    assert key_for("Miejsce wsiadania", ["miejsce_wsiadania"]) == "miejsce_wsiadania_2"
    assert key_for("Miejsce  Wsiadania", ["miejsce_wsiadania", "miejsce_wsiadania_2"]) == (
        "miejsce_wsiadania_3"
    )


def test_a_label_like_a_service_header_or_another_question_is_refused() -> None:
    with pytest.raises(QuestionError, match="nazwa kolumny"):
        check_label("  e-MAIL ", HEADERS, [])
    with pytest.raises(QuestionError, match="nazwa kolumny"):
        check_label("Przedsiebiorstwo spoleczne", HEADERS, [])
    other = Question("posilki", "Posiłki", Kind.MANY)
    with pytest.raises(QuestionError, match="już jest"):
        check_label("POSIŁKI", HEADERS, [other])
    assert check_label(" Miejsce   wsiadania ", HEADERS, [other]) == "Miejsce wsiadania"


def test_choices_are_lines_of_label_seats_and_description() -> None:
    choices = parse_choices(STOPS)
    assert choices == (
        Choice("zary_dworzec_pkp", "Żary, dworzec PKP", 1, "odjazd 7:00"),
        Choice("zielona_gora_dworcowa", "Zielona Góra, Dworcowa", None, "odjazd 8:00"),
    )
    with pytest.raises(QuestionError, match="liczba miejsc"):
        parse_choices("Żary | dużo")
    # A chosen choice left out is hidden; an unchosen one goes; a kept label keeps its key.
    again = parse_choices("żary, DWORZEC pkp | 3", choices, chosen=["zielona_gora_dworcowa"])
    assert [(c.key, c.seats, c.hidden) for c in again] == [
        ("zary_dworzec_pkp", 3, False),
        ("zielona_gora_dworcowa", None, True),
    ]
    assert parse_choices("Nowy", choices) == (Choice("nowy", "Nowy"),)


def _questions() -> list[Question]:
    created = datetime(2018, 8, 1, tzinfo=UTC)
    return [
        Question("stop", "Miejsce wsiadania", Kind.CHOICE, True, choices=parse_choices(STOPS)),
        Question("meals", "Posiłki", Kind.MANY, choices=parse_choices("obiad\nkolacja")),
        Question("who", "Z kim pokój", Kind.TEXT, True, created_at=created),
        Question("long", "Uwagi", Kind.LONG_TEXT),
        Question("bus", "Autokar", Kind.YES_NO),
        Question("day", "Przyjazd", Kind.DATE),
        Question("old", "Stare", Kind.TEXT, hidden=True),
    ]


def test_answers_are_checked_with_polish_messages_keyed_by_question() -> None:
    answers, errors = check_answers(
        _questions(),
        {
            "stop": "zary_dworzec_pkp",
            "meals": ["kolacja", "obiad", "obiad"],
            "who": "  Jan   Kowalski ",
            "bus": True,
            "day": "2018-08-27",
        },
    )
    assert errors == {}
    assert answers == {
        "stop": "zary_dworzec_pkp",
        "meals": ["obiad", "kolacja"],  # in the question's order, once each
        "who": "Jan Kowalski",
        "bus": True,
        "day": "2018-08-27",
    }
    _, errors = check_answers(
        _questions(),
        {"stop": "warszawa", "meals": "obiad", "bus": "tak", "day": "27.08.2018", "old": "x"},
    )
    assert errors["answers.stop"].startswith("Należy wybrać jedną z odpowiedzi: zary_dworzec_pkp")
    assert errors["answers.meals"] == "Oczekiwano listy odpowiedzi."
    assert errors["answers.bus"] == "Oczekiwano wartości true albo false."
    assert errors["answers.day"] == "Datę należy podać w formacie RRRR-MM-DD."
    assert errors["answers.old"] == "Nieznane pytanie – należy je usunąć ze zgłoszenia."
    assert errors["answers.who"] == "To pole jest wymagane."
    _, errors = check_answers(_questions(), {"stop": "zary_dworzec_pkp", "who": "x" * 201})
    assert errors == {"answers.who": "Tekst jest za długi (najwyżej 200 znaków)."}


def test_a_change_names_only_what_changes_and_a_later_required_question_binds_new_ones() -> None:
    stored = {"stop": "zary_dworzec_pkp", "bus": True}
    before = datetime(2018, 7, 1, tzinfo=UTC)  # registered before `who` was added
    answers, errors = check_answers(_questions(), {"bus": None}, stored=stored, received_at=before)
    assert (answers, errors) == ({"stop": "zary_dworzec_pkp"}, {})
    _, errors = check_answers(_questions(), {"stop": None}, stored=stored, received_at=before)
    assert errors == {"answers.stop": "To pole jest wymagane."}


def test_answers_read_as_staff_read_them() -> None:
    stop, meals, _, _, bus, day, _ = _questions()
    assert display(stop, "zary_dworzec_pkp") == "Żary, dworzec PKP"
    assert display(meals, ["obiad", "kolacja"]) == "obiad, kolacja"
    assert display(bus, False) == "nie"
    assert display(day, "2018-08-27") == "27.08.2018"
    assert display(day, None) == ""


# -- through the app -------------------------------------------------------------------------


def event_of(app: Flask, slug: str = KLASTER) -> Event:
    event: Event = app.extensions["owes"].events[slug]
    return event


def add_questions(app: Flask, clock: FakeClock, slug: str = KLASTER) -> QuestionEditor:
    """The study visit's questions: a stop with one seat at Żary, meals, a required text."""
    editor = QuestionEditor(app.extensions["owes"].store, HEADERS)
    event = event_of(app, slug)
    by, now = "koordynatorka@example.pl", clock.now
    editor.add(event, QuestionForm("Miejsce wsiadania", "wybor", choices=STOPS), by=by, now=now)
    editor.add(event, QuestionForm("Posiłki", "wiele", choices="obiad\nkolacja"), by=by, now=now)
    editor.add(
        event, QuestionForm("Z kim chcę dzielić pokój", "tekst", required=True), by=by, now=now
    )
    return editor


ANSWERS: dict[str, Any] = {
    "miejsce_wsiadania": "zary_dworzec_pkp",
    "posilki": ["obiad"],
    "z_kim_chce_dzielic_pokoj": "Jan Kowalski",
}


def test_the_api_takes_answers_refuses_a_full_choice_and_shows_free_seats(
    app: Flask, client: FlaskClient, store: Store, clock: FakeClock
) -> None:
    add_questions(app, clock)
    event = client.get(f"/api/events/{KLASTER}").get_json()
    stop = event["questions"][0]
    assert (stop["key"], stop["kind"], stop["required"]) == ("miejsce_wsiadania", "wybor", False)
    assert stop["choices"][0] == {
        "key": "zary_dworzec_pkp",
        "label": "Żary, dworzec PKP",
        "description": "odjazd 7:00",
        "seats": 1,
        "free_seats": 1,
    }
    assert stop["choices"][1]["free_seats"] is None

    missing = client.post(URL, json=valid_payload())
    assert missing.status_code == 422
    assert missing.get_json()["errors"] == {
        "answers.z_kim_chce_dzielic_pokoj": "To pole jest wymagane."
    }
    first = client.post(URL, json=valid_payload(answers=ANSWERS))
    assert first.status_code == 201, first.get_json()
    full = client.post(URL, json=valid_payload(email="ewa@example.pl", answers=ANSWERS))
    assert full.status_code == 422
    assert full.get_json()["errors"] == {
        "answers.miejsce_wsiadania": "Brak miejsc: „Żary, dworzec PKP”. Prosimy wybrać inną "
        "odpowiedź."
    }
    seats = client.get(f"/api/events/{KLASTER}").get_json()["questions"][0]["choices"]
    assert seats[0]["free_seats"] == 0

    token = first.get_json()["manage_url"].rsplit("/", 1)[1]
    view = client.get(f"/api/registrations/{token}").get_json()
    assert view["data"]["answers"] == ANSWERS
    changed = client.patch(f"/api/registrations/{token}", json={"answers": {"posilki": None}})
    assert changed.status_code == 200
    assert changed.get_json()["data"]["answers"] == {
        "miejsce_wsiadania": "zary_dworzec_pkp",
        "z_kim_chce_dzielic_pokoj": "Jan Kowalski",
    }
    unknown = client.patch(f"/api/registrations/{token}", json={"answers": {"nie_ma": 1}})
    assert unknown.status_code == 422
    assert list(unknown.get_json()["errors"]) == ["answers.nie_ma"]
    own = client.get(f"/api/registrations/{token}/data").get_json()
    assert own["registration"]["answers"]["miejsce_wsiadania"] == "zary_dworzec_pkp"


def test_the_functions_sibling_parts_read(
    app: Flask, client: FlaskClient, store: Store, clock: FakeClock
) -> None:
    add_questions(app, clock)
    created = client.post(URL, json=valid_payload(answers=ANSWERS)).get_json()
    other = {**ANSWERS, "miejsce_wsiadania": "zielona_gora_dworcowa"}
    client.post(URL, json=valid_payload(email="ewa@example.pl", answers=other))
    with store.reading() as session:
        assert registrations_choosing(
            session, KLASTER, "miejsce_wsiadania", "zary_dworzec_pkp"
        ) == [created["id"]]
        registration = session.scalar(select(Registration).where(Registration.id == created["id"]))
        assert registration is not None
        choice = choice_of(session, registration, "miejsce_wsiadania")
        assert choice is not None and choice.description == "odjazd 7:00"
        assert answers_for(session, [created["id"]])[created["id"]]["posilki"] == ["obiad"]


def test_erasure_removes_the_answers(
    app: Flask, client: FlaskClient, store: Store, clock: FakeClock, runner: Any
) -> None:
    add_questions(app, clock)
    created = client.post(URL, json=valid_payload(answers=ANSWERS)).get_json()
    registrations = app.extensions["owes"].registrations
    from registrations.erasure import ErasedBy

    registrations.erase(event_of(app), [created["id"]], now=clock.now, by=ErasedBy.REQUEST)
    with store.reading() as session:
        assert session.scalar(select(func.count()).select_from(Answer)) == 0


def test_a_kind_is_locked_once_answered_and_an_answered_question_is_hidden_not_deleted(
    app: Flask, client: FlaskClient, clock: FakeClock
) -> None:
    editor = add_questions(app, clock)
    event, by = event_of(app), "koordynatorka@example.pl"
    client.post(URL, json=valid_payload(answers=ANSWERS))
    form = QuestionForm("Z kim chcę dzielić pokój", "tekst_dlugi", required=True)
    with pytest.raises(QuestionError, match="Rodzaju odpowiedzi nie można zmienić"):
        editor.edit(event, "z_kim_chce_dzielic_pokoj", form, by=by, now=clock.now)
    with pytest.raises(QuestionError, match="można je ukryć"):
        editor.delete(event, "posilki", by=by, now=clock.now)
    # A chosen choice dropped from the list is hidden; the answer stays.
    editor.edit(
        event,
        "miejsce_wsiadania",
        QuestionForm("Miejsce wsiadania", "wybor", choices="Zielona Góra, Dworcowa"),
        by=by,
        now=clock.now,
    )
    [stop] = [q for q in editor.questions(KLASTER) if q.key == "miejsce_wsiadania"]
    assert [(c.key, c.hidden) for c in stop.choices] == [
        ("zielona_gora_dworcowa", False),
        ("zary_dworzec_pkp", True),
    ]
    editor.set_hidden(event, "posilki", True, by=by, now=clock.now)
    shown = client.get(f"/api/events/{KLASTER}").get_json()["questions"]
    assert [q["key"] for q in shown] == ["miejsce_wsiadania", "z_kim_chce_dzielic_pokoj"]


# -- the form and the private link -----------------------------------------------------------


def _post_form(client: FlaskClient, data: dict[str, Any]) -> Any:
    from tests.test_form import FORM_URL, csrf_token, form_data

    fields = {"csrf_token": csrf_token(client), **form_data()}
    fields.update(data)
    return client.post(FORM_URL, data=fields)


def test_the_form_asks_the_questions_refuses_a_full_choice_and_shows_the_answers(
    app: Flask, client: FlaskClient, store: Store, clock: FakeClock
) -> None:
    from tests.conftest import shown
    from tests.test_form import FORM_URL, page

    add_questions(app, clock)
    form = shown(client.get(FORM_URL))
    assert "Miejsce wsiadania" in form and "Żary, dworzec PKP – odjazd 7:00" in form
    soup = page(client.get(FORM_URL).data)
    assert soup.find("label", {"for": "answers.z_kim_chce_dzielic_pokoj"}) is not None

    missing = _post_form(client, {"answers.miejsce_wsiadania": "zary_dworzec_pkp"})
    assert missing.status_code == 422
    assert "Z kim chcę dzielić pokój: To pole jest wymagane." in shown(missing)
    assert 'value="zary_dworzec_pkp" checked' in missing.text  # kept on the error

    answers = {
        "answers.miejsce_wsiadania": "zary_dworzec_pkp",
        "answers.posilki": ["obiad", "kolacja"],
        "answers.z_kim_chce_dzielic_pokoj": "Jan Nowak",
    }
    done = _post_form(client, answers)
    assert done.status_code == 303
    confirmation = shown(client.get(done.headers["Location"]))
    assert "Odpowiedzi na pytania organizatora" in confirmation
    assert "Żary, dworzec PKP" in confirmation and "obiad, kolacja" in confirmation

    # The seat is taken: the choice reads `brak miejsc`, and a forged POST is refused.
    again = shown(client.get(FORM_URL))
    assert "Żary, dworzec PKP – odjazd 7:00 (brak miejsc)" in again
    full = _post_form(client, {**answers, "email": "ewa@example.pl", "pesel": "02270803624"})
    assert full.status_code == 422
    assert "Brak miejsc: „Żary, dworzec PKP”. Prosimy wybrać inną odpowiedź." in shown(full)


def test_the_private_link_changes_an_answer(
    app: Flask, client: FlaskClient, store: Store, clock: FakeClock
) -> None:
    from tests.conftest import shown
    from tests.test_form import page

    add_questions(app, clock)
    created = client.post(URL, json=valid_payload(answers=ANSWERS)).get_json()
    link = created["manage_url"].replace("http://localhost", "")
    soup = page(client.get(link).data)
    assert soup.find("input", {"id": "answers.miejsce_wsiadania", "checked": True}) is not None
    token = soup.find("input", {"name": "csrf_token"})
    assert token is not None
    fields: dict[str, Any] = {
        str(i["name"]): i.get("value", "")
        for i in soup.select("form input[name]")
        if i.get("type") not in ("radio", "checkbox") or i.has_attr("checked")
    }
    fields.update({str(t["name"]): t.text for t in soup.select("form textarea")})
    fields.update({str(s["name"]): "0809" for s in soup.select("form select")})
    fields["answers.miejsce_wsiadania"] = "zielona_gora_dworcowa"
    changed = client.post(link, data=fields)
    assert changed.status_code in (200, 303), shown(changed)
    with store.reading() as session:
        answers = answers_for(session, [created["id"]])[created["id"]]
    assert answers["miejsce_wsiadania"] == "zielona_gora_dworcowa"
    assert answers["posilki"] == ["obiad"]
    assert "Zielona Góra, Dworcowa" in shown(client.get(f"{link}/moje-dane.html"))


def test_questions_changed_by_another_process_are_the_ones_a_registration_meets(
    app: Flask, client: FlaskClient, store: Store, clock: FakeClock
) -> None:
    """This process keeps the questions it read; staff changing them elsewhere (another
    gunicorn worker) are found before a refusal, and under the lock before a commit."""
    assert client.post(URL, json=valid_payload(email="a@example.pl")).status_code == 201
    other = QuestionEditor(Store(store.url), HEADERS)  # another process's view of the store
    event, by = event_of(app), "koordynatorka@example.pl"
    other.add(event, QuestionForm("Posiłki", "wiele", choices="obiad"), by=by, now=clock.now)
    answered = client.post(
        URL, json=valid_payload(email="b@example.pl", answers={"posilki": ["obiad"]})
    )
    assert answered.status_code == 201, answered.get_json()
    other.add(event, QuestionForm("Pokój", "tekst", required=True), by=by, now=clock.now)
    unanswered = client.post(URL, json=valid_payload(email="c@example.pl"))
    assert unanswered.status_code == 422
    assert unanswered.get_json()["errors"] == {"answers.pokoj": "To pole jest wymagane."}


def test_the_private_link_keeps_a_hidden_choice_the_person_holds(
    app: Flask, client: FlaskClient, store: Store, clock: FakeClock
) -> None:
    """Staff dropped the person's stop from the list (it is hidden, not deleted): the private
    link's form does not show it, and saving the form keeps it chosen."""
    from tests.test_form import page

    editor = add_questions(app, clock)
    created = client.post(URL, json=valid_payload(answers=ANSWERS)).get_json()
    editor.edit(
        event_of(app),
        "miejsce_wsiadania",
        QuestionForm("Miejsce wsiadania", "wybor", choices="Zielona Góra, Dworcowa"),
        by="koordynatorka@example.pl",
        now=clock.now,
    )
    link = created["manage_url"].replace("http://localhost", "")
    soup = page(client.get(link).data)
    assert soup.find("input", {"value": "zary_dworzec_pkp"}) is None  # not offered any more
    fields: dict[str, Any] = {
        str(i["name"]): i.get("value", "")
        for i in soup.select("form input[name]")
        if i.get("type") not in ("radio", "checkbox") or i.has_attr("checked")
    }
    fields.update({str(t["name"]): t.text for t in soup.select("form textarea")})
    fields.update({str(s["name"]): "0809" for s in soup.select("form select")})
    fields["phone"] = "600 700 801"
    changed = client.post(link, data=fields)
    assert changed.status_code in (200, 303)
    with store.reading() as session:
        answers = answers_for(session, [created["id"]])[created["id"]]
        phone = session.scalar(select(Registration.phone).where(Registration.id == created["id"]))
    assert answers["miejsce_wsiadania"] == "zary_dworzec_pkp"
    assert phone is not None and phone.endswith("801")  # the rest of the form was saved
