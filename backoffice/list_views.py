"""Every list the `export` command writes, downloaded from the staff pages: made on request,
never left on disk, each download recorded in the history."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue

from backoffice.access import current_staff, full_staff
from backoffice.overview import entry_or_404, overview_of
from config.services import services
from registrations.history import Action, record
from staff import exports, lists, question_lists

MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
}
DESCRIPTIONS = {
    "participants": "wszyscy zgłoszeni, najpierw potwierdzeni: kontakt, status, nocleg, dieta",
    "insurance": "potwierdzeni uczestnicy z numerem PESEL lub datą urodzenia",
    "catering": "porcje na każdy posiłek według diet, uwagi do diet",
    "rooming": "potwierdzeni uczestnicy z noclegiem, według przedsiębiorstw",
    "attendance": "lista do podpisu na każdy dzień wydarzenia",
    "badges": "identyfikatory do wycięcia, 8 na arkuszu A4",
}


@full_staff
def lists_page(slug: str) -> ResponseReturnValue:
    svc = services()
    entry = entry_or_404(slug)
    return render_template(
        "obsluga/lists.html",
        entry=entry,
        event=entry.event,
        row=overview_of(svc, entry),
        formats=exports.FORMATS,
        titles=exports.TITLES,
        descriptions=DESCRIPTIONS,
        choice_questions=[
            q for q in svc.registrations.questions(entry.event) if q.kind.has_choices
        ],
        choice_formats=question_lists.CHOICE_FORMATS,
    )


@full_staff
def download(slug: str, kind: str, fmt: str) -> ResponseReturnValue:
    svc = services()
    entry = entry_or_404(slug)
    if fmt not in exports.FORMATS.get(kind, ()) and not (
        kind == question_lists.CHOICE_LIST and fmt in question_lists.CHOICE_FORMATS
    ):
        abort(404)
    question = request.args.get("pytanie") if kind == question_lists.CHOICE_LIST else None
    marked = kind == "attendance" and request.args.get("obecnosc") == "tak"  # issue 20
    try:
        data, _ = lists.build(
            svc.store,
            kind,
            fmt,
            entry.event,
            svc.now(),
            organisation_logo=svc.organisation.logo_strip,
            question=question,
            marked=marked,
        )
    except question_lists.NotAChoiceQuestion:
        abort(404)
    staff = current_staff()
    assert staff is not None
    with svc.store.transaction() as session:
        record(
            session,
            actor=staff.email,
            action=Action.LIST_DOWNLOADED,
            at=svc.now(),
            event_slug=slug,
            detail=f"{kind}.{fmt}",
        )
    name = f"{kind}-{question}" if question else kind
    return Response(
        data,
        mimetype=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{slug}-{name}.{fmt}"'},
    )
