"""Certificates of participation: who qualifies, sent once and numbered per calendar year across
events, reissued with the same number, revoked, verified, and gone after an erasure; the PDFs
read back with pypdf."""

from __future__ import annotations

import io
import logging
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from pydantic import ValidationError
from pypdf import PdfReader
from sqlalchemy import select

from certificates.issue import make_certificates
from certificates.models import Certificate
from certificates.text import DEFAULT_TEXT, unknown_placeholders
from checkin.presence import record_presence
from config.services import services
from config.settings import Settings
from registrations.event import Event
from registrations.models import Registration
from store.models import OutboxMessage
from tests.checkin_support import PEOPLE, register
from tests.conftest import KLASTER, FakeClock, own_events, shown, write_event
from tests.staff_support import CHECKIN, STAFF_LISTS, csrf, page, sign_in

SECOND = "klaster-bis"
AFTER = "2018-08-29T10:00:00+02:00"


@pytest.fixture
def events_dir(tmp_path: Path) -> Path:
    folder = own_events(tmp_path / "events")
    write_event(folder, SECOND, title='"Klaster – drugie spotkanie"', short_title='"Klaster 2"')
    return folder


@pytest.fixture
def settings(settings: Settings, database_url: str) -> Settings:
    return settings.model_copy(update={**STAFF_LISTS, "database_url": database_url})


def present(app: Flask, registration_id: str, *days: int) -> None:
    svc = services(app)
    registration_event = None
    with svc.store.transaction() as session:
        registration = session.scalar(
            select(Registration).where(Registration.id == registration_id)
        )
        assert registration is not None
        registration_event = svc.events[registration.event_slug]
        for n in days:
            day = registration_event.days[n]
            record_presence(
                session,
                registration_event,
                registration,
                day,
                now=svc.now(),
                by="x",
                source="lista",
            )


@pytest.fixture
def attended(app: Flask, clock: FakeClock) -> list[str]:
    """Anna on both days, Łukasz on one, Zofia on none; the event over."""
    ids = [register(app, n, first, last) for n, (first, last) in enumerate(PEOPLE)]
    clock.set("2018-08-28T09:00:00+02:00")
    present(app, ids[0], 0, 1)
    present(app, ids[1], 0)
    return ids


def certificate_mails(app: Flask) -> list[EmailMessage]:
    with services(app).store.reading() as session:
        rows = [r for r in session.scalars(select(OutboxMessage)) if r.kind == "certificate"]
    found = []
    for row in rows:
        assert row.body is not None
        message = message_from_bytes(row.body, policy=policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(p.extract_text() for p in reader.pages)


def attachment(message: EmailMessage) -> bytes:
    [part] = list(message.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    content = part.get_content()
    assert isinstance(content, bytes)
    return content


def test_nothing_before_the_end_then_listed_sent_once_as_a_one_page_pdf(
    app: Flask, runner: FlaskCliRunner, clock: FakeClock, attended: list[str]
) -> None:
    early = runner.invoke(args=["certificates", "--event", KLASTER, "--send"])
    assert early.exit_code == 1 and "po zakończeniu wydarzenia" in early.output
    assert certificate_mails(app) == []

    clock.set(AFTER)
    listed = runner.invoke(args=["certificates", "--event", KLASTER])
    assert listed.exit_code == 0
    lines = {line.split("\t")[0]: line for line in listed.output.splitlines() if "\t" in line}
    assert lines[attended[0]].endswith("2/2\tdo wysłania")
    assert lines[attended[1]].endswith("1/2\tbez prawa do zaświadczenia")
    assert "1 of 3 listed qualify (present on at least 2 day(s)); 0 certificate(s) issued" in (
        listed.output
    )
    assert certificate_mails(app) == []  # nothing is sent by itself

    sent = runner.invoke(args=["certificates", "--event", KLASTER, "--send"])
    assert sent.exit_code == 0 and "sent: 1" in sent.output
    again = runner.invoke(args=["certificates", "--event", KLASTER, "--send"])
    assert "sent: 0" in again.output
    [message] = certificate_mails(app)
    assert message["To"] == "p0@example.pl"
    assert message["Subject"] == "Zaświadczenie o udziale: Klaster PS 2018"
    body = message.get_body(("plain",))
    assert body is not None and body.get_content().startswith("Dzień dobry,")
    pages, text = pdf_text(attachment(message))
    assert pages == 1
    assert "Zaświadczenie o udziale" in text and "nr 1/2018" in text
    assert "Anna Nowak" in text and "Spółdzielnia Socjalna 0" in text
    assert "Wyjazdowe spotkanie Klastra" in text.replace("\n", " ")
    assert "/zaswiadczenie/" in text and "Zielona Góra, 29 sierpnia 2018 r." in text


def test_numbers_count_per_calendar_year_across_events_and_never_twice(
    app: Flask, clock: FakeClock, attended: list[str]
) -> None:
    svc = services(app)
    clock.set("2018-08-20T12:00:00+00:00")  # registration still open
    others = [register(app, 10 + n, "Jan", f"Kowal{n}", slug=SECOND) for n in range(2)]
    for rid in others:
        present(app, rid, 0, 1)
    clock.set(AFTER)
    certificates = make_certificates(svc)
    results: list[list[str]] = []

    def send(slug: str) -> None:
        results.append(certificates.send(svc.events[slug], svc.now(), "x"))

    threads = [threading.Thread(target=send, args=(slug,)) for slug in (KLASTER, SECOND)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with svc.store.reading() as session:
        numbers = sorted(c.label for c in session.scalars(select(Certificate)))
    assert numbers == ["1/2018", "2/2018", "3/2018"]

    # Revoked, then the next one: the revoked number is not given again.
    certificates.revoke(svc.events[KLASTER], attended[0], svc.now(), "x")
    present(app, attended[1], 1)
    certificates.send(svc.events[KLASTER], svc.now(), "x")
    with svc.store.reading() as session:
        assert session.get(Certificate, attended[1]).label == "4/2018"  # type: ignore[union-attr]


def test_verified_reissued_revoked_and_gone_after_erasure(
    app: Flask, clock: FakeClock, attended: list[str]
) -> None:
    svc = services(app)
    clock.set(AFTER)
    make_certificates(svc).send(svc.events[KLASTER], svc.now(), "x")
    with svc.store.reading() as session:
        certificate = session.get(Certificate, attended[0])
        assert certificate is not None
        code = str(certificate.code)
    client = app.test_client()
    valid = client.get(f"/zaswiadczenie/{code}")
    assert valid.status_code == 200
    text = page(valid.data).get_text(" ", strip=True)
    assert "1/2018" in text and "A. N." in text and "27–28 sierpnia 2018" in text
    assert "Nowak" not in text and "Anna" not in text
    assert valid.headers["Cache-Control"] == "no-store"
    unknown = client.get("/zaswiadczenie/aaaaaaaaaaaaaaaa")
    sentence = (
        "Nie można potwierdzić tego zaświadczenia – mogło zostać unieważnione lub dane usunięto."
    )
    assert unknown.status_code == 404 and sentence in shown(unknown)

    # The staff page: the name corrected, reissued with the same number.
    with svc.store.transaction() as session:
        anna = session.scalar(select(Registration).where(Registration.id == attended[0]))
        assert anna is not None
        anna.last_name = "Nowak-Kowalska"
    staff = sign_in(app.test_client())
    path = f"/obsluga/wydarzenia/{KLASTER}/zaswiadczenia"
    listing = shown(staff.get(path))
    assert "nr 1/2018" in listing and "Wystaw ponownie" in listing
    token = csrf(staff, path)
    assert (
        staff.post(
            path, data={"csrf_token": token, "akcja": "ponownie", "id": attended[0]}
        ).status_code
        == 303
    )
    mails = certificate_mails(app)
    assert len(mails) == 2
    _, text = pdf_text(attachment(mails[-1]))
    assert "Anna Nowak-Kowalska" in text and "nr 1/2018" in text
    downloaded = staff.get(f"{path}/{attended[0]}.pdf")
    assert downloaded.status_code == 200 and "nr 1/2018" in pdf_text(downloaded.data)[1]

    # The private link offers it too.
    private = svc.link_for(anna).replace(svc.settings.public_base_url, "")
    assert "Zaświadczenie o udziale nr 1/2018" in shown(app.test_client().get(private))
    own = app.test_client().get(f"{private}/zaswiadczenie.pdf")
    assert own.status_code == 200 and "Anna Nowak-Kowalska" in pdf_text(own.data)[1]

    # Check-in staff do not reach the certificates.
    assert sign_in(app.test_client(), CHECKIN).get(path).status_code == 403

    assert (
        staff.post(
            path, data={"csrf_token": token, "akcja": "uniewaznij", "id": attended[0]}
        ).status_code
        == 303
    )
    revoked = client.get(f"/zaswiadczenie/{code}")
    assert revoked.status_code == 404 and revoked.data == unknown.data
    assert app.test_client().get(f"{private}/zaswiadczenie.pdf").status_code == 404


def test_an_erased_holders_certificate_answers_404(
    app: Flask, clock: FakeClock, attended: list[str]
) -> None:
    from privacy.erasure import Eraser
    from registrations.erasure import ErasedBy

    svc = services(app)
    clock.set(AFTER)
    make_certificates(svc).send(svc.events[KLASTER], svc.now(), "x")
    with svc.store.reading() as session:
        code = str(session.scalars(select(Certificate.code)).one())
    assert app.test_client().get(f"/zaswiadczenie/{code}").status_code == 200
    Eraser(svc, logging.getLogger("test")).erase(
        svc.events[KLASTER], [attended[0]], by=ErasedBy.REQUEST, command="erase"
    )
    gone = app.test_client().get(f"/zaswiadczenie/{code}")
    assert gone.status_code == 404
    with svc.store.reading() as session:
        assert session.scalars(select(Certificate)).all() == []


def test_only_the_five_placeholders_are_accepted() -> None:
    assert unknown_placeholders(DEFAULT_TEXT) == []
    assert unknown_placeholders("Dla {imie} z {przedsiebiorstwo}") == ["imie"]
    assert unknown_placeholders("Otwarta { klamra") == ["{"]
    source = (Path(__file__).parents[1] / "config/events/klaster-2018.toml").read_text()
    import tomllib

    data = tomllib.loads(source)
    data["slug"] = KLASTER
    data["certificate_text"] = "Zaświadczamy, że {osoba} była."
    with pytest.raises(ValidationError):
        Event.model_validate(data)


def test_the_staff_form_refuses_an_unknown_placeholder(app: Flask) -> None:
    from tests.staff_support import create_event, edit

    staff = sign_in(app.test_client())
    slug = create_event(staff)
    response = edit(staff, slug, certificate_text="Dla {osoba}.")
    assert response.status_code in (400, 422)
    assert "Dozwolone pola w treści zaświadczenia" in shown(response)
    saved = edit(staff, slug, certificate_text="Dla {imie_nazwisko}.", certificate_min_days="1")
    assert saved.status_code == 303


def test_two_sends_at_once_send_each_certificate_once(
    app: Flask, clock: FakeClock, attended: list[str]
) -> None:
    svc = services(app)
    clock.set(AFTER)
    certificates = make_certificates(svc)
    barrier = threading.Barrier(2)
    results: list[list[str]] = []

    def send() -> None:
        barrier.wait()
        results.append(certificates.send(svc.events[KLASTER], svc.now(), "x"))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(r) for r in results) == [0, 1]
    assert len(certificate_mails(app)) == 1
