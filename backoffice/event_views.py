"""The events in the staff pages: the list, each event's page, the form to create, copy and edit
one, and what staff do with it (publish, withdraw, delete, close, reopen, preview)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from backoffice import event_form
from backoffice.access import backoffice, current_staff, full_staff
from backoffice.overview import FROM_FILE, entry_or_404, overview_of, overviews
from catalogue.catalogue import Entry
from catalogue.editing import (
    ANNOUNCED,
    ActionRefused,
    Confirmation,
    Consequence,
    EditRefused,
    NeedsConfirmation,
    NotEditable,
    StaleEdit,
    make_slug,
    outside_area,
    purge_starts,
)
from config.images import find_image
from config.services import Services, services
from forms.views import form_context
from registrations.before_event import to_phone
from registrations.errors import GENERAL
from registrations.event import Event
from registrations.history import Action, record
from registrations.polish import plural
from registrations.powiaty import POWIATY
from sheets.local import LocalWorkbookSink

STALE = (
    "Wydarzenie zmieniło się w międzyczasie – poniżej są jego aktualne dane. "
    "Nic nie zostało zapisane."
)
CONFIRM = "potwierdzenie"  # the consequences staff confirmed (form values of `Consequence`)
NOTIFY = "powiadom"


def _staff_email() -> str:
    staff = current_staff()
    assert staff is not None  # the view is guarded
    return staff.email


@full_staff
def index() -> ResponseReturnValue:
    svc = services()
    entries = list(svc.catalogue.current().entries.values())
    with svc.store.reading() as session:
        rows = overviews(session, entries, svc.now())
    return render_template(
        "obsluga/index.html",
        rows=rows,
        from_file=FROM_FILE,
        sheet_link=lambda e: sheet_link(svc, e),
    )


def sheet_link(svc: Services, event: Event) -> str | None:
    """Where staff open the event's sheet: Google's page, or the workbook to download."""
    if isinstance(svc.sink, LocalWorkbookSink):
        return url_for("backoffice.workbook", slug=event.slug)
    key = event.sheets.spreadsheet_id or svc.settings.sheets_spreadsheet_id
    return f"https://docs.google.com/spreadsheets/d/{key}/edit" if key else None


@full_staff
def event_page(slug: str) -> ResponseReturnValue:
    svc = services()
    entry = entry_or_404(slug)
    row = overview_of(svc, entry)
    with svc.store.reading() as session:
        outside = outside_area(session, entry.event) if row.total else []
        phone = to_phone(session, entry.event, svc.now()) if row.total else []  # issue 19
    starts = purge_starts(entry.event)
    return render_template(
        "obsluga/event.html",
        row=row,
        entry=entry,
        event=entry.event,
        outside=outside,
        to_phone=phone,
        powiaty=POWIATY,
        purge_at=entry.event.local(starts) if starts else None,
        sheet=sheet_link(svc, entry.event),
        version=backoffice().editor.version(slug) if not entry.from_file else None,
        now=svc.now(),
    )


# -- the form ---------------------------------------------------------------------------


def _form_page(
    values: dict[str, Any],
    *,
    entry: Entry | None = None,
    errors: dict[str, str] | None = None,
    confirmations: list[Confirmation] | None = None,
    status: int = 200,
    version: int | None = None,
) -> ResponseReturnValue:
    svc = services()
    row = overview_of(svc, entry) if entry is not None else None
    live = row is not None and not row.entry.draft and row.total > 0
    errors = errors or {}
    order = {name: i for i, name in enumerate(event_form.LABELS)}
    ordered = dict(sorted(errors.items(), key=lambda item: order.get(item[0], -1)))
    page = render_template(
        "obsluga/event_form.html",
        values=values,
        errors=ordered,
        labels=event_form.LABELS,
        entry=entry,
        row=row,
        live=live,
        locked=bool(row and row.total),
        version=version,
        confirmations=confirmations or [],
        Consequence=Consequence,
        notify=request.form.get(NOTIFY) == "tak" if request.method == "POST" else True,
        announced=ANNOUNCED,
        powiaty=list(POWIATY.values()),
    )
    return page, status


@full_staff
def new_event() -> ResponseReturnValue:
    svc = services()
    if request.method == "GET":
        source = request.args.get("kopia")
        if source:
            values = event_form.copy_values(entry_or_404(source).event)
        else:
            values = event_form.defaults(svc.organisation)
        return _form_page(values)
    values = event_form.submitted(request.form)
    chosen = bool(values["slug"].strip())
    slug = values["slug"].strip()
    if not chosen:  # a placeholder for validation; made from the title under the lock
        taken = set(svc.catalogue.current().entries)
        slug = _provisional_slug(values, taken)
    try:
        event = event_form.validate(values, slug, f"{slug}-v1", _logo_finder())
        created = backoffice().editor.create(
            event, chosen_slug=chosen, by=_staff_email(), now=svc.now()
        )
    except event_form.FormErrors as invalid:
        return _form_page(values, errors=invalid.errors, status=422)
    except EditRefused as refused:
        return _form_page(values, errors=refused.errors, status=409)
    flash(
        f"Utworzono szkic wydarzenia „{created.title}”. Nie jest jeszcze widoczny dla uczestników."
    )
    return redirect(url_for("backoffice.event_page", slug=created.slug), code=303)


def _logo_finder() -> Callable[[str], Path]:
    """A logo strip named in the form: a PNG or JPEG beside the organisation file."""
    folder = services().settings.organisation_file.parent
    return lambda name: find_image(Path(name), [folder])


def _provisional_slug(values: dict[str, Any], taken: set[str]) -> str:
    """The slug made from the title, to validate the rest with (the dates' mistakes are told
    by the validation)."""
    try:
        starts_on = date.fromisoformat(str(values.get("starts_on", "")).strip())
    except ValueError:
        return "wydarzenie"
    return make_slug(str(values.get("title", "")), starts_on, taken)


@full_staff
def edit_event(slug: str) -> ResponseReturnValue:
    svc = services()
    entry = entry_or_404(slug)
    if entry.from_file:
        abort(404)  # read-only: `Utwórz kopię` makes an editable one
    office = backoffice()
    if request.method == "GET":
        return _form_page(
            event_form.values_of(entry.event), entry=entry, version=entry.event.version
        )
    values = event_form.submitted(request.form)
    base = _int(request.form.get("version"))
    new_slug = values["slug"].strip() or slug
    confirmed = frozenset(
        Consequence(value) for value in request.form.getlist(CONFIRM) if value in set(Consequence)
    )
    try:
        event = event_form.validate(values, new_slug, entry.event.consent_version, _logo_finder())
        saved = office.editor.save(
            slug,
            event,
            base_version=base if base is not None else -1,
            by=_staff_email(),
            now=svc.now(),
            confirmed=confirmed,
            notify=request.form.get(NOTIFY) == "tak",
        )
    except event_form.FormErrors as invalid:
        return _form_page(values, entry=entry, errors=invalid.errors, status=422, version=base)
    except EditRefused as refused:
        return _form_page(values, entry=entry, errors=refused.errors, status=409, version=base)
    except NeedsConfirmation as needed:
        return _form_page(
            values, entry=entry, confirmations=needed.confirmations, status=409, version=base
        )
    except StaleEdit as stale:
        current = svc.catalogue.fresh().entry(slug) or entry
        return _form_page(
            event_form.values_of(stale.current),
            entry=current,
            errors={GENERAL: STALE},
            status=409,
            version=current.event.version,
        )
    except NotEditable:
        abort(404)
    svc.wake_workers()
    flash("Zmiany zostały zapisane.")
    for note in saved.notes:
        flash(note)
    if saved.notified:
        people = plural(saved.notified, "osoby", "osób", "osób")
        flash(f"Powiadomienie o zmianach zostanie wysłane e-mailem do {people}.")
    return redirect(url_for("backoffice.event_page", slug=saved.event.slug), code=303)


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


# -- what staff do with an event ----------------------------------------------------------


class _EventAction(Protocol):
    def __call__(self, slug: str, *, by: str, now: datetime) -> None: ...


def _act(slug: str, run: _EventAction, done: str) -> Response:
    svc = services()
    try:
        run(slug, by=_staff_email(), now=svc.now())
    except ActionRefused as refused:
        flash(str(refused))
    except NotEditable:
        abort(404)
    else:
        flash(done)
    return redirect(url_for("backoffice.event_page", slug=slug), code=303)


@full_staff
def publish(slug: str) -> ResponseReturnValue:
    return _act(
        slug,
        backoffice().editor.publish,
        "Wydarzenie zostało opublikowane: formularz przyjmuje zgłoszenia.",
    )


@full_staff
def unpublish(slug: str) -> ResponseReturnValue:
    return _act(
        slug,
        backoffice().editor.unpublish,
        "Publikacja została wycofana: wydarzenie jest znów szkicem.",
    )


@full_staff
def delete_event(slug: str) -> ResponseReturnValue:
    entry = entry_or_404(slug)
    if entry.from_file:
        abort(404)
    if request.method == "GET":
        return render_template("obsluga/confirm.html", event=entry.event, action="delete")
    svc = services()
    try:
        backoffice().editor.delete(slug, by=_staff_email(), now=svc.now())
    except ActionRefused as refused:
        flash(str(refused))
        return redirect(url_for("backoffice.event_page", slug=slug), code=303)
    except NotEditable:
        abort(404)
    flash(f"Wydarzenie „{entry.event.title}” zostało usunięte.")
    return redirect(url_for("backoffice.index"), code=303)


@full_staff
def close_registration(slug: str) -> ResponseReturnValue:
    """`Zamknij zapisy teraz`, after a confirmation step: the forced close-off."""
    svc = services()
    entry = entry_or_404(slug)
    if entry.draft:
        abort(404)
    if request.method == "GET":
        return render_template("obsluga/confirm.html", event=entry.event, action="close")
    backoffice().editor.close_now(entry.event, by=_staff_email(), now=svc.now())
    svc.wake_workers()
    flash(
        "Zapisy zostały zamknięte. Ostatnie zgłoszenia trafią do arkusza, powstanie "
        "podsumowanie, a organizator otrzyma e-mail – w ciągu minuty."
    )
    return redirect(url_for("backoffice.event_page", slug=slug), code=303)


@full_staff
def reopen_registration(slug: str) -> ResponseReturnValue:
    svc = services()
    entry = entry_or_404(slug)
    try:
        backoffice().editor.reopen(entry.event, by=_staff_email(), now=svc.now())
    except ActionRefused as refused:
        flash(str(refused))
    else:
        svc.wake_workers()
        flash("Zapisy są znów otwarte; zabezpieczenie arkusza zostanie zdjęte w ciągu minuty.")
    return redirect(url_for("backoffice.event_page", slug=slug), code=303)


@full_staff
def preview(slug: str) -> ResponseReturnValue:
    """`Podgląd`: the event's form as participants will see it; it takes no POST."""
    entry = entry_or_404(slug)
    context = form_context(entry.event, {"diet": "standard", "accommodation": "nie"}, {})
    return render_template("obsluga/preview.html", entry=entry, **context)


@full_staff
def workbook(slug: str) -> ResponseReturnValue:
    """The event's workbook on the embedded default (the staff's sheet without Google)."""
    svc = services()
    entry = entry_or_404(slug)
    sink = svc.sink
    if not isinstance(sink, LocalWorkbookSink):
        abort(404)
    path = sink.path(entry.event)
    if not path.exists():
        return render_template(
            "obsluga/message.html",
            title="Arkusza jeszcze nie ma",
            message="Arkusz powstaje przy pierwszym zgłoszeniu na to wydarzenie.",
            back=url_for("backoffice.event_page", slug=slug),
        ), 404
    data = path.read_bytes()
    with svc.store.transaction() as session:
        record(
            session,
            actor=_staff_email(),
            action=Action.LIST_DOWNLOADED,
            at=svc.now(),
            event_slug=slug,
            detail="arkusz.xlsx",
        )
    return send_file(
        io.BytesIO(data),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{slug}.xlsx",
        max_age=0,
    )
