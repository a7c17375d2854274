"""The certificates' pages: the public verification page, the participant's download behind the
private link, and the staff page that lists, sends, reissues and revokes."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound as HttpNotFound

from backoffice.access import current_staff, full_staff
from backoffice.overview import entry_or_404
from certificates.issue import TooEarly, make_certificates, min_days, verify
from config.services import services
from registrations.event import Event
from registrations.operations import NotFound
from registrations.polish import event_dates

UNVERIFIED = (
    "Nie można potwierdzić tego zaświadczenia – mogło zostać unieważnione lub dane usunięto."
)
UNCHANGED = "Nic nie zmieniono."


def initials(first: str, last: str) -> str:
    """`A. N.`: enough to match a certificate shown, nothing to find the person by."""
    return " ".join(f"{part[:1].upper()}." for part in (first, last) if part)


def verification(code: str) -> ResponseReturnValue:
    """`/zaswiadczenie/<code>`: valid, or one 404 page for unknown, revoked and erased alike."""
    svc = services()
    found = verify(svc.store, code)
    event = None
    if found is not None:
        entry = svc.catalogue.current().entry(found[0].event_slug)
        event = entry.event if entry is not None else None
    if found is None or event is None:
        return render_template("certificates/unverified.html", message=UNVERIFIED), 404
    certificate, registration = found
    return render_template(
        "certificates/verified.html",
        event=event,
        dates=event_dates(event),
        number=certificate.label,
        holder=initials(registration.first_name, registration.last_name),
    )


def own_pdf(slug: str, token: str) -> ResponseReturnValue:
    """The participant's certificate behind the private link."""
    svc = services()
    event = svc.event(slug)
    try:
        registration = svc.registrations.by_token(token)
    except NotFound:
        raise HttpNotFound() from None
    if registration.event_slug != event.slug:
        raise HttpNotFound()
    data = make_certificates(svc).pdf(event, registration.id)
    if data is None:
        raise HttpNotFound()
    return _pdf(data, registration.id)


def _pdf(data: bytes, registration_id: str) -> Response:
    return Response(
        data,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="zaswiadczenie-{registration_id}.pdf"'
        },
    )


def _event(slug: str) -> Event:
    return entry_or_404(slug).event


@full_staff
def staff_page(slug: str) -> ResponseReturnValue:
    """Who qualifies, who has a certificate; `Wyślij`, `Wystaw ponownie`, `Unieważnij`."""
    svc = services()
    event = _event(slug)
    certificates = make_certificates(svc)
    if request.method == "POST":
        staff = current_staff()
        assert staff is not None
        action = request.form.get("akcja", "")
        now = svc.now()
        if action == "wyslij":
            try:
                sent = certificates.send(event, now, staff.email)
            except TooEarly as early:
                flash(str(early))
            else:
                flash(f"Wysłane zaświadczenia: {len(sent)}.")
                svc.mail_worker.wake()
        elif action in ("ponownie", "uniewaznij"):
            registration_id = request.form.get("id", "")[:16]
            if action == "ponownie":
                done = certificates.reissue(event, registration_id, now, staff.email)
                flash(
                    "Zaświadczenie wystawione ponownie i wysłane." if done else "Nic nie zmieniono."
                )
                svc.mail_worker.wake()
            else:
                done = certificates.revoke(event, registration_id, now, staff.email)
                flash("Zaświadczenie unieważnione." if done else UNCHANGED)
        else:
            abort(400)
        return redirect(url_for("certificates.staff_page", slug=slug), code=303)
    found = certificates.listed(event)
    return render_template(
        "certificates/staff.html",
        event=event,
        entries=found,
        min_days=min_days(event),
        days=len(event.days),
        ended=svc.now() >= event.finishes_at,
        waiting=sum(1 for e in found if e.qualifies and e.certificate is None),
    )


@full_staff
def staff_pdf(slug: str, registration_id: str) -> ResponseReturnValue:
    """A certificate to hand over in person (someone without an e-mail address)."""
    event = _event(slug)
    data = make_certificates(services()).pdf(event, registration_id)
    if data is None:
        abort(404)
    return _pdf(data, registration_id)
