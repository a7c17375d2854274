"""Events made in the staff pages: drafts, publishing, versions, the form's rules and refusals,
and what a save of a live event does at once (on SQLite and PostgreSQL where the store
matters)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from openpyxl import load_workbook
from sqlalchemy import event as sa_event
from sqlalchemy import select

from app import create_app
from config.services import Services, services
from config.settings import ConfigurationError, Settings
from privacy.retention import Retention
from registrations.models import EventState, EventVersion, Registration, StaffAction
from registrations.status import Status
from store.models import OutboxMessage
from tests.conftest import FakeClock, shown, valid_payload, write_event
from tests.staff_support import (
    STAFF_LISTS,
    create_event,
    csrf,
    edit,
    event_form,
    form_values,
    page,
    post,
    publish,
    sign_in,
    tag,
    textarea,
    value,
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update=STAFF_LISTS)


@pytest.fixture
def office(app: Flask) -> FlaskClient:
    """A signed-in coordinator."""
    return sign_in(app.test_client())


@pytest.fixture
def stored_app(database_url: str, settings: Settings, clock: FakeClock) -> Iterator[Flask]:
    """The app on SQLite and on PostgreSQL."""
    app = create_app(settings.model_copy(update={"database_url": database_url}), clock=clock)
    yield app
    services(app).store.dispose()


def register(client: FlaskClient, slug: str, n: int, start: int = 0, **changes: Any) -> list[str]:
    ids = []
    for i in range(start, start + n):
        payload = valid_payload(email=f"osoba{i}@example.pl", enterprise_name=f"Spółdzielnia {i}")
        payload.update(changes)
        response = client.post(f"/api/events/{slug}/registrations", json=payload)
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])
    return ids


def statuses(app: Flask, slug: str) -> dict[str, str]:
    with services(app).store.reading() as session:
        rows = session.execute(
            select(Registration.id, Registration.status).where(Registration.event_slug == slug)
        )
        return {registration_id: status for registration_id, status in rows}


def state_of(app: Flask, slug: str) -> EventState:
    with services(app).store.reading() as session:
        state = session.get(EventState, slug)
        assert state is not None
        return state


def queued(app: Flask, kind: str) -> list[OutboxMessage]:
    with services(app).store.reading() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def errors_on(html: str | bytes) -> dict[str, str]:
    return {
        str(p["id"]).removesuffix("-error"): p.text.removeprefix("Błąd: ").replace("\xa0", " ")
        for p in page(html).select("p.error")
    }


# -- creating and publishing ------------------------------------------------------------


def test_a_new_event_needs_only_its_title_dates_deadline_capacity_and_venue(
    app: Flask, office: FlaskClient
) -> None:
    form = page(office.get("/obsluga/wydarzenia/nowe").data)
    assert value(form, "contact_name") == "Adam Szulczewski"
    assert value(form, "timezone") == "Europe/Warsaw"
    checked = [str(box["value"]) for box in form.select("input[name=eligible_powiaty][checked]")]
    assert sorted(checked) == ["0802", "0805", "0807", "0809", "0811", "0812", "0862"]
    assert "Wyrażam zgodę na przetwarzanie" in textarea(form, "consent_text")
    defaults: dict[str, Any] = form_values(office, "/obsluga/wydarzenia/nowe")
    assert defaults["eligible_powiaty"] == checked
    defaults.update(
        title="Wizyta studyjna w Nietkowicach",
        starts_on="2026-10-05",
        ends_on="2026-10-05",
        registration_deadline="2026-09-28",
        capacity="20",
        venue="Nietkowice",
        csrf_token=csrf(office, "/obsluga/wydarzenia/nowe"),
    )

    created = office.post("/obsluga/wydarzenia/nowe", data=defaults)

    assert created.status_code == 303
    assert (
        created.headers["Location"] == "/obsluga/wydarzenia/wizyta-studyjna-w-nietkowicach-2026-10/"
    )
    entry = services(app).catalogue.current().entry("wizyta-studyjna-w-nietkowicach-2026-10")
    assert entry is not None and entry.draft and entry.event.version == 1
    assert entry.event.consent_version == "wizyta-studyjna-w-nietkowicach-2026-10-v1"
    assert entry.event.contact.phone == "533 316 283" and entry.event.summary == ""


def test_a_draft_is_nowhere_public_until_published(app: Flask, office: FlaskClient) -> None:
    slug = create_event(office)
    public = app.test_client()

    def visible() -> tuple[bool, bool, int, int]:
        on_index = slug in shown(public.get("/"))
        in_api = slug in {e["slug"] for e in public.get("/api/events").get_json()}
        form = public.get(f"/wydarzenia/{slug}/").status_code
        api = public.post(f"/api/events/{slug}/registrations", json=valid_payload()).status_code
        return on_index, in_api, form, api

    assert visible() == (False, False, 404, 404)
    assert office.get(f"/obsluga/wydarzenia/{slug}/podglad").status_code == 200
    assert office.post(f"/obsluga/wydarzenia/{slug}/podglad").status_code == 405
    publish(office, slug)
    assert visible() == (True, True, 200, 201)


def test_an_empty_slug_is_made_from_the_title_and_a_taken_one_gets_a_number(
    office: FlaskClient,
) -> None:
    title = (
        "Śniadanie biznesowe: Łączymy przedsiębiorstwa społeczne z biznesem lokalnym – "
        "edycja jesienna"
    )
    first = create_event(
        office,
        title=title,
        short_title="A",
        starts_on="2026-11-03",
        ends_on="2026-11-03",
        registration_deadline="2026-11-01",
    )
    second = create_event(
        office,
        title=title,
        short_title="B",
        starts_on="2026-11-20",
        ends_on="2026-11-20",
        registration_deadline="2026-11-01",
    )

    assert first == "sniadanie-biznesowe-laczymy-przedsiebiorstwa-spole-2026-11"
    assert second == f"{first}-2"


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("nowe", "zarezerwowany"),
        ("otwarte", "wydarzenie z pliku"),
        ("Zła Nazwa", "tylko małe litery a–z"),
    ],
)
def test_a_slug_that_is_reserved_a_files_or_malformed_is_refused(
    office: FlaskClient, slug: str, message: str
) -> None:
    form = event_form(slug=slug, csrf_token=csrf(office, "/obsluga/wydarzenia/nowe"))

    answer = office.post("/obsluga/wydarzenia/nowe", data=form)

    assert answer.status_code in (409, 422)
    assert message in errors_on(answer.data)["slug"]


def test_mistakes_are_told_in_polish_beside_their_fields_with_the_typed_values_kept(
    office: FlaskClient,
) -> None:
    form = event_form(
        title="",
        capacity="trzydzieści",
        contact_email="nie-adres",
        eligible_powiaty=[],
        timezone="Europe/Zielona_Gora",
        retention_days="0",
        starts_on="10.10.2026",
        csrf_token=csrf(office, "/obsluga/wydarzenia/nowe"),
    )

    answer = office.post("/obsluga/wydarzenia/nowe", data=form)

    assert answer.status_code == 422
    assert errors_on(answer.data) == {
        "title": "To pole jest wymagane.",
        "capacity": "Należy podać liczbę całkowitą, np. 30.",
        "starts_on": "Należy podać datę w formacie RRRR-MM-DD.",
        "contact_email": "Należy podać poprawny adres e-mail, np. biuro@example.pl.",
        "eligible_powiaty": "Należy zaznaczyć co najmniej jeden powiat.",
        "timezone": "Nieznana strefa czasowa – należy podać nazwę IANA, np. Europe/Warsaw.",
        "retention_days": "Należy podać liczbę nie mniejszą niż 1.",
    }
    seen = page(answer.data)
    assert value(seen, "capacity") == "trzydzieści"
    assert value(seen, "venue") == form["venue"]
    assert value(seen, "capacity", "aria-describedby") == "capacity-hint capacity-error"
    assert [a["href"] for a in seen.select(".error-summary a")][0] == "#title"


@pytest.mark.parametrize(
    ("dates", "field", "message"),
    [
        (
            {"starts_on": "2026-10-10", "ends_on": "2026-10-09"},
            "ends_on",
            "Ostatni dzień nie może być wcześniejszy niż pierwszy.",
        ),
        (
            {"ends_on": "2026-10-10", "registration_deadline": "2026-10-11"},
            "registration_deadline",
            "Termin zgłoszeń nie może być późniejszy niż ostatni dzień wydarzenia.",
        ),
    ],
)
def test_dates_out_of_order_are_told_beside_the_date_to_correct(
    office: FlaskClient, dates: dict[str, str], field: str, message: str
) -> None:
    form = event_form(**{"starts_on": "2026-10-01", **dates})
    form["csrf_token"] = csrf(office, "/obsluga/wydarzenia/nowe")

    answer = office.post("/obsluga/wydarzenia/nowe", data=form)

    assert answer.status_code == 422
    assert errors_on(answer.data) == {field: message}


def test_a_short_title_or_worksheet_title_another_event_has_is_refused(
    office: FlaskClient,
) -> None:
    create_event(office, short_title="Szkolenie ES")
    token = csrf(office, "/obsluga/wydarzenia/nowe")

    same = office.post(
        "/obsluga/wydarzenia/nowe", data=event_form(short_title="SZKOLENIE es", csrf_token=token)
    )
    files = office.post(
        "/obsluga/wydarzenia/nowe", data=event_form(short_title="otwarte", csrf_token=token)
    )
    sheet = office.post(
        "/obsluga/wydarzenia/nowe",
        data=event_form(
            short_title="Inne", worksheet="zgłoszenia – szkolenie es", csrf_token=token
        ),
    )

    assert same.status_code == files.status_code == sheet.status_code == 409
    assert "ma już taki skrócony tytuł" in errors_on(same.data)["short_title"]
    assert "Wydarzenie testowe otwarte" in errors_on(files.data)["short_title"]
    assert "Zakładka arkusza o tej nazwie" in errors_on(sheet.data)["worksheet"]


def test_a_copy_opens_the_form_without_dates_short_title_sheet_or_slug(
    office: FlaskClient,
) -> None:
    form = page(office.get("/obsluga/wydarzenia/nowe?kopia=klaster-2018").data)

    assert value(form, "title").startswith("Wyjazdowe spotkanie Klastra")
    assert value(form, "capacity") == "30"
    for name in (
        "starts_on",
        "ends_on",
        "registration_deadline",
        "short_title",
        "slug",
        "spreadsheet_id",
        "worksheet",
    ):
        assert value(form, name) == "", name
    assert "Świebodzin" in textarea(form, "programme")


def test_event_files_are_listed_from_file_and_read_only(office: FlaskClient) -> None:
    listing = shown(office.get("/obsluga/"))

    assert "z pliku" in listing and "Wydarzenie testowe otwarte" in listing
    assert office.get("/obsluga/wydarzenia/otwarte/edycja").status_code == 404
    assert office.get("/obsluga/wydarzenia/otwarte/").status_code == 200


def test_the_list_shows_each_events_state_seats_and_waiting_list(
    app: Flask, office: FlaskClient
) -> None:
    draft = create_event(office, short_title="Szkic")
    live = create_event(office, short_title="Na żywo", title="Warsztaty", capacity="1")
    publish(office, live)
    register(app.test_client(), live, 3)

    cards = {
        tag(card, "h2").text.strip(): card
        for card in page(office.get("/obsluga/").data).select("li.card")
    }

    assert "szkic" in cards["Szkolenie: ekonomia społeczna w praktyce"].text
    assert "opublikowane – zapisy otwarte" in cards["Warsztaty"].text
    assert "1 z 1" in cards["Warsztaty"].text
    assert "zapisy zamknięte – podsumowanie wysłane" not in cards["Warsztaty"].text
    waiting = tag(cards["Warsztaty"], "dt", string="Lista rezerwowa").find_next("dd")
    assert waiting is not None and waiting.text == "2"
    links = {a.text.split(" – ")[0] for a in cards["Warsztaty"].select("ul.links a")}
    assert links == {"Formularz", "Arkusz", "Listy", "Edycja", "Podgląd", "Utwórz kopię"}
    assert draft


def test_withdrawing_and_deleting_are_refused_once_there_are_registrations(
    app: Flask, office: FlaskClient
) -> None:
    empty = create_event(office, short_title="Pusty")
    taken = create_event(office, short_title="Zajęty", title="Zajęte wydarzenie")
    publish(office, empty)
    publish(office, taken)
    register(app.test_client(), taken, 1)

    for action, refusal in (
        ("wycofanie", "Publikacji nie można wycofać: na wydarzenie są już zgłoszenia."),
        ("usuniecie", "Wydarzenia ze zgłoszeniami nie można usunąć."),
    ):
        answer = post(office, f"/obsluga/wydarzenia/{taken}/{action}")
        seen = shown(office.get(answer.headers["Location"]))
        assert refusal in seen
    post(office, f"/obsluga/wydarzenia/{empty}/wycofanie")

    catalogue = services(app).catalogue.current()
    assert catalogue.entries[taken].published and catalogue.entries[empty].draft
    assert post(office, f"/obsluga/wydarzenia/{empty}/usuniecie").status_code == 303
    assert empty not in services(app).catalogue.current().entries
    assert office.get(f"/obsluga/wydarzenia/{empty}/").status_code == 404


def test_an_event_file_whose_slug_is_in_the_store_stops_start_up_naming_the_file(
    app: Flask, office: FlaskClient, settings: Settings, clock: FakeClock
) -> None:
    slug = create_event(office)
    path = write_event(settings.events_dir, slug)

    with pytest.raises(ConfigurationError) as error:
        create_app(settings, clock=clock)

    assert str(path) in str(error.value) and "also kept in the store" in str(error.value)


# -- versions, and a save in force at once ------------------------------------------------


def test_each_save_is_a_version_and_a_registration_records_the_version_it_was_made_under(
    stored_app: Flask,
) -> None:
    office = sign_in(stored_app.test_client())
    slug = create_event(office, capacity="5")
    publish(office, slug)
    [before] = register(stored_app.test_client(), slug, 1)
    assert edit(office, slug, capacity="6").status_code == 303
    [after] = register(stored_app.test_client(), slug, 1, start=1)

    with services(stored_app).store.reading() as session:
        versions = session.execute(
            select(EventVersion.version, EventVersion.saved_by).where(EventVersion.slug == slug)
        ).all()
        made_under = {
            rid: version
            for rid, version in session.execute(select(Registration.id, Registration.event_version))
        }
    assert versions == [(1, "koordynatorka@example.pl"), (2, "koordynatorka@example.pl")]
    assert json.loads(_data(stored_app, slug, 2))["capacity"] == 6
    assert made_under == {before: 1, after: 2}


def _data(app: Flask, slug: str, version: int) -> str:
    with services(app).store.reading() as session:
        row = session.get(EventVersion, (slug, version))
        assert row is not None
        return row.data


def test_a_stale_edit_is_refused_with_the_current_values_and_nothing_saved(
    stored_app: Flask,
) -> None:
    first = sign_in(stored_app.test_client())
    slug = create_event(first)
    second = sign_in(stored_app.test_client())
    path = f"/obsluga/wydarzenia/{slug}/edycja"
    opened = form_values(second, path)  # the second person opens the form at version 1
    assert edit(first, slug, venue="Sulechów").status_code == 303

    late = second.post(path, data={**opened, "venue": "Żary"})

    assert late.status_code == 409
    text = shown(late)
    assert "Wydarzenie zmieniło się w międzyczasie" in text
    seen = page(late.data)
    assert value(seen, "venue") == "Sulechów"
    assert value(seen, "version") == "2"
    assert services(stored_app).catalogue.current().live.get(slug) is None  # still a draft
    assert services(stored_app).catalogue.current().entries[slug].event.venue == "Sulechów"


def test_a_save_is_in_force_at_the_next_request_of_another_process(
    database_url: str, settings: Settings, clock: FakeClock
) -> None:
    shared = settings.model_copy(update={"database_url": database_url})
    one, other = create_app(shared, clock=clock), create_app(shared, clock=clock)
    try:
        office = sign_in(one.test_client())
        slug = create_event(office, title="Targi ekonomii społecznej")
        publish(office, slug)
        visitor = other.test_client()
        assert "Targi ekonomii społecznej" in visitor.get(f"/wydarzenia/{slug}/").get_data(
            as_text=True
        )
        statements = _statements(other)

        edit(office, slug, title="Targi ekonomii społecznej 2026")
        answer = visitor.get(f"/wydarzenia/{slug}/")

        assert "Targi ekonomii społecznej 2026" in shown(answer)
        reads = [s for s in statements if "catalogue_revision" in s]
        assert len(reads) == 1  # one indexed read per request
    finally:
        services(one).store.dispose()
        services(other).store.dispose()


def _statements(app: Flask) -> list[str]:
    seen: list[str] = []
    sa_event.listen(
        services(app).store.engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: seen.append(statement),
    )
    return seen


def test_an_api_registration_reads_no_catalogue_revision(app: Flask) -> None:
    client = app.test_client()
    register(client, "otwarte", 1)  # the process has read the catalogue before
    statements = _statements(app)

    register(client, "otwarte", 1, start=1)

    assert [s for s in statements if "catalogue_revision" in s] == []


def test_a_registration_made_with_an_older_version_is_made_again_under_the_saved_one(
    stored_app: Flask,
) -> None:
    office = sign_in(stored_app.test_client())
    slug = create_event(office, capacity="1")
    publish(office, slug)
    svc = services(stored_app)
    read_before = svc.catalogue.current().live[slug]  # what a request of another process holds
    register(stored_app.test_client(), slug, 1)
    edit(office, slug, capacity="2", venue="Świebodzin")

    made = svc.registrations.register(
        read_before, valid_payload(email="pozna@example.pl"), source="api", now=svc.now()
    )

    assert made.registration.status == Status.CONFIRMED  # the saved capacity, 2
    assert made.registration.event_version == 2


# -- what a save of a live event does -------------------------------------------------------


def test_a_raised_capacity_fills_the_freed_seats_at_once_and_says_so(
    stored_app: Flask,
) -> None:
    office = sign_in(stored_app.test_client())
    slug = create_event(office, capacity="2")
    publish(office, slug)
    ids = register(stored_app.test_client(), slug, 5)

    saved = edit(office, slug, capacity="4")

    assert saved.status_code == 303
    assert list(statuses(stored_app, slug).values()).count(Status.CONFIRMED.value) == 4
    assert statuses(stored_app, slug)[ids[4]] == Status.WAITLISTED.value
    promoted = {m.registration_id for m in queued(stored_app, "promoted")}
    assert promoted == {ids[2], ids[3]}
    seen = shown(office.get(saved.headers["Location"]))
    assert "Osoby przeniesione z listy rezerwowej na wolne miejsca: 2" in seen


def test_a_lowered_capacity_moves_nobody_back_and_the_page_says_how_many_are_over(
    app: Flask, office: FlaskClient
) -> None:
    slug = create_event(office, capacity="3")
    publish(office, slug)
    register(app.test_client(), slug, 3)

    saved = edit(office, slug, capacity="1")

    assert saved.status_code == 303
    assert set(statuses(app, slug).values()) == {Status.CONFIRMED.value}
    seen = shown(office.get(saved.headers["Location"]))
    assert "Potwierdzonych zgłoszeń jest o 2 więcej niż nowa liczba miejsc" in seen
    assert "Potwierdzonych zgłoszeń jest o 2 więcej niż miejsc" in shown(
        office.get(f"/obsluga/wydarzenia/{slug}/")
    )


def test_a_deadline_moved_into_the_past_closes_registration_after_a_confirmation(
    app: Flask, office: FlaskClient, clock: FakeClock
) -> None:
    slug = create_event(
        office, starts_on="2018-09-10", ends_on="2018-09-11", registration_deadline="2018-09-01"
    )
    publish(office, slug)
    register(app.test_client(), slug, 1)

    asked = edit(office, slug, registration_deadline="2018-08-19")
    assert asked.status_code == 409
    assert "zapisy zostaną od razu zamknięte" in shown(asked)
    assert state_of(app, slug).closing_started_at is None
    confirmed = edit(office, slug, registration_deadline="2018-08-19", potwierdzenie="zamkniecie")

    assert confirmed.status_code == 303
    assert state_of(app, slug).closing_started_at == clock.now
    refused = app.test_client().post(
        f"/api/events/{slug}/registrations", json=valid_payload(email="x@example.pl")
    )
    assert refused.status_code == 403
    services(app).worker.run_once()  # the worker completes the close-off
    assert state_of(app, slug).closed_off_at is not None


def test_a_later_deadline_after_a_close_off_needs_reopening_which_unprotects_the_sheet(
    app: Flask, office: FlaskClient, clock: FakeClock
) -> None:
    slug = create_event(
        office, starts_on="2018-09-10", ends_on="2018-09-11", registration_deadline="2018-08-25"
    )
    publish(office, slug)
    register(app.test_client(), slug, 1)
    post(office, f"/obsluga/wydarzenia/{slug}/zamkniecie")  # `Zamknij zapisy teraz`
    svc = services(app)
    svc.worker.run_once()
    workbook = svc.instance_path / f"{slug}.xlsx"
    assert load_workbook(workbook).worksheets[0].protection.sheet
    assert state_of(app, slug).closed_off_at is not None

    asked = edit(office, slug, registration_deadline="2018-08-31")
    assert asked.status_code == 409
    button = page(asked.data).find("button", {"name": "potwierdzenie"})
    assert button is not None and button.text == "Otwórz zapisy ponownie"
    reopened = edit(office, slug, registration_deadline="2018-08-31", potwierdzenie="otwarcie")

    assert reopened.status_code == 303
    state = state_of(app, slug)
    assert (state.closing_started_at, state.closed_off_at, state.mail_sent_at) == (None, None, None)
    assert register(app.test_client(), slug, 1, start=1)
    svc.worker.run_once()
    assert not load_workbook(workbook).worksheets[0].protection.sheet
    assert state_of(app, slug).reopened_at is None
    clock.set("2018-08-31T22:00:00+00:00")  # the new deadline has a close-off of its own
    svc.worker.run_once()
    assert state_of(app, slug).closed_off_at is not None


def test_reopening_undoes_a_forced_close_off(app: Flask, office: FlaskClient) -> None:
    post(office, "/obsluga/wydarzenia/otwarte/zamkniecie")
    public = app.test_client()
    assert "zamknięt" in shown(public.get("/wydarzenia/otwarte/")).lower()

    post(office, "/obsluga/wydarzenia/otwarte/otwarcie")

    assert register(public, "otwarte", 1)
    with services(app).store.reading() as session:
        actions = list(session.scalars(select(StaffAction.action)))
    assert actions[-2:] == ["registration_closed", "registration_reopened"]


def test_a_purge_brought_within_seven_days_is_confirmed_and_waits_a_day(
    app: Flask, office: FlaskClient, clock: FakeClock
) -> None:
    slug = create_event(
        office, starts_on="2018-09-10", ends_on="2018-09-11", registration_deadline="2018-09-01"
    )
    publish(office, slug)
    register(app.test_client(), slug, 3)
    clock.set("2018-09-15T10:00:00+00:00")
    sign_in(office)  # the session of 20 August is over

    asked = edit(office, slug, retention_days="1")
    text = shown(asked)
    assert asked.status_code == 409
    assert "dane osobowe z 3 zgłoszeń zostaną usunięte 16 września 2018 r., godz. 12:00" in text
    assert (
        edit(office, slug, retention_days="1", potwierdzenie="usuniecie-danych").status_code == 303
    )

    retention = Retention(services(app), logging.getLogger("test"), command="test")
    event = services(app).events[slug]
    clock.set("2018-09-16T09:59:00+00:00")
    assert not retention.plan([event])[0].due
    clock.set("2018-09-16T10:00:00+00:00")
    assert retention.plan([event])[0].due


def test_a_new_short_title_renames_the_workbooks_worksheet_in_place(
    app: Flask, office: FlaskClient
) -> None:
    slug = create_event(office, short_title="Szkolenie ES")
    publish(office, slug)
    ids = register(app.test_client(), slug, 2)
    svc = services(app)
    svc.worker.run_once()

    saved = edit(office, slug, short_title="Szkolenie jesienne")
    svc.worker.run_once()

    workbook = load_workbook(svc.instance_path / f"{slug}.xlsx")
    assert workbook.sheetnames[0] == "Zgłoszenia – Szkolenie jesienne"
    assert "Zgłoszenia – Szkolenie ES" not in workbook.sheetnames
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert sorted(row[0] for row in rows[1:]) == sorted(ids)
    assert "Zakładki arkusza zostaną przemianowane" in shown(office.get(saved.headers["Location"]))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timezone", "Europe/Berlin"),
        ("spreadsheet_id", "inny"),
        ("worksheet", "Inna"),
        ("slug", "inny-adres"),
    ],
)
def test_the_sheet_target_time_zone_and_slug_cannot_change_once_there_are_registrations(
    app: Flask, office: FlaskClient, field: str, value: str
) -> None:
    slug = create_event(office)
    publish(office, slug)
    register(app.test_client(), slug, 1)

    refused = edit(office, slug, **{field: value})

    assert refused.status_code == 409
    assert "gdy są już zgłoszenia" in errors_on(refused.data)[field]
    assert services(app).events[slug].version == 1


def test_a_draft_may_get_another_slug(app: Flask, office: FlaskClient) -> None:
    slug = create_event(office)

    moved = edit(office, slug, slug="szkolenie-w-zarach")

    assert moved.headers["Location"] == "/obsluga/wydarzenia/szkolenie-w-zarach/"
    entries = services(app).catalogue.current().entries
    assert slug not in entries and entries["szkolenie-w-zarach"].event.version == 2


def test_narrowed_powiaty_keep_registrations_from_outside_and_the_event_page_names_them(
    app: Flask, office: FlaskClient
) -> None:
    slug = create_event(office, eligible_powiaty=["0809", "0811"])
    publish(office, slug)
    [outside] = register(
        app.test_client(), slug, 1, powiat="0811", first_name="Ewa", last_name="Żarska"
    )
    register(app.test_client(), slug, 1, start=1, powiat="0809")

    assert edit(office, slug, eligible_powiaty=["0809"]).status_code == 303

    assert statuses(app, slug)[outside] == Status.CONFIRMED.value
    seen = page(office.get(f"/obsluga/wydarzenia/{slug}/").data)
    section = tag(seen, "h2", string="Zgłoszenia spoza obszaru wydarzenia").find_parent("section")
    assert section is not None
    assert f"{outside} – Ewa Żarska" in section.text and "powiat żarski" in section.text


def test_changed_dates_venue_or_provisions_tell_each_active_person_with_a_new_ics(
    app: Flask, office: FlaskClient
) -> None:
    slug = create_event(
        office,
        capacity="1",
        starts_on="2018-09-10",
        ends_on="2018-09-11",
        registration_deadline="2018-09-01",
    )
    publish(office, slug)
    seat, waiting = register(app.test_client(), slug, 2)
    cancelled = register(app.test_client(), slug, 1, start=2)[0]
    svc = services(app)
    svc.registrations.cancel(svc.events[slug], _token(app, cancelled), now=svc.now())
    svc.mail_worker.run_once()
    first = _sent_ics(app, seat)

    saved = edit(
        office,
        slug,
        starts_on="2018-09-12",
        ends_on="2018-09-13",
        venue="Lubniewice",
        powiadom="tak",
    )

    assert saved.status_code == 303
    told = {m.registration_id: m for m in queued(app, "event_changed")}
    assert set(told) == {seat, waiting}
    svc.mail_worker.run_once()
    message = _eml(app, seat, "Zmiana w wydarzeniu")
    plain = message.get_body(("plain",))
    assert plain is not None
    body = plain.get_content()
    assert "Termin: było 10–11 września 2018 r., jest 12–13 września 2018 r." in body
    assert "Miejsce: było Zielona Góra, ul. Pod Topolami 1, jest Lubniewice" in body
    updated = _ics(message)
    assert updated["UID"] == first["UID"]
    assert int(updated["SEQUENCE"]) > int(first["SEQUENCE"])
    assert str(updated["DTSTART"].to_ical().decode()) == "20180912"
    assert _ics(_eml(app, waiting, "Zmiana w wydarzeniu"), missing_ok=True) is None


def test_without_powiadom_or_without_such_a_change_nobody_is_told(
    app: Flask, office: FlaskClient
) -> None:
    slug = create_event(office)
    publish(office, slug)
    register(app.test_client(), slug, 1)

    edit(office, slug, venue="Żary", powiadom=[])  # the box unticked
    edit(office, slug, capacity="9", powiadom="tak")  # nothing participants are told about

    assert queued(app, "event_changed") == []


def test_the_preview_of_a_draft_shows_its_form_and_takes_no_post(office: FlaskClient) -> None:
    slug = create_event(office, title="Warsztaty z księgowości")

    seen = office.get(f"/obsluga/wydarzenia/{slug}/podglad")

    assert "Warsztaty z księgowości" in shown(seen)
    assert page(seen.data).find("input", {"name": "first_name"}) is not None
    assert office.post(f"/obsluga/wydarzenia/{slug}/podglad", data={}).status_code == 405


def test_a_draft_is_never_synced_closed_off_or_purged(
    app: Flask, office: FlaskClient, clock: FakeClock
) -> None:
    slug = create_event(
        office,
        starts_on="2018-08-21",
        ends_on="2018-08-21",
        registration_deadline="2018-08-19",
        retention_days="1",
    )
    clock.set("2018-09-01T10:00:00+00:00")

    services(app).worker.run_once()

    state = state_of(app, slug)
    assert (state.closing_started_at, state.closed_off_at, state.purged_at) == (None, None, None)
    assert not (services(app).instance_path / f"{slug}.xlsx").exists()


def _token(app: Flask, registration_id: str) -> str:
    svc: Services = services(app)
    registration = svc.registrations.by_id(registration_id)
    return svc.registrations.tokens.token(registration)


def _eml(app: Flask, registration_id: str, subject: str) -> EmailMessage:
    registration = services(app).registrations.by_id(registration_id)
    for path in sorted((services(app).instance_path / "mail").glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        if registration.email in str(message["To"]) and str(message["Subject"]).startswith(subject):
            return message
    raise AssertionError(f"no {subject!r} e-mail to {registration_id}")


def _ics(message: EmailMessage, missing_ok: bool = False) -> Any:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return Calendar.from_ical(part.get_content()).walk("VEVENT")[0]
    if missing_ok:
        return None
    raise AssertionError("no calendar file")


def _sent_ics(app: Flask, registration_id: str) -> Any:
    return _ics(_eml(app, registration_id, "Potwierdzenie zgłoszenia"))


def test_the_stored_versions_and_history_never_hold_a_value(
    app: Flask, office: FlaskClient
) -> None:
    slug = create_event(office)
    edit(office, slug, venue="Tajne Miejsce 7")

    with services(app).store.reading() as session:
        entries = list(session.scalars(select(StaffAction)))
    flat = " ".join(f"{e.fields} {e.detail} {e.registration_ids}" for e in entries)
    assert "Tajne" not in flat and "venue" in flat


def test_characters_nobody_types_are_refused_beside_their_field(office: FlaskClient) -> None:
    form = event_form(title="Szkolenie\x00", provided="obiad\nkawa\ufffe")
    form["csrf_token"] = csrf(office, "/obsluga/wydarzenia/nowe")

    answer = office.post("/obsluga/wydarzenia/nowe", data=form)

    assert answer.status_code == 422
    assert set(errors_on(answer.data)) == {"title", "provided"}
    assert "niedozwolone znaki" in errors_on(answer.data)["title"]
