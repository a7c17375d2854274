"""URL rules of the staff pages, under /obsluga/."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint

from backoffice import (
    decision_views,
    event_views,
    history_views,
    list_views,
    message_views,
    question_views,
    registration_views,
    signin_views,
)
from backoffice.access import current_staff
from config.organisation import unfilled_placeholders
from config.services import services
from registrations.polish import datetime_pl

bp = Blueprint("backoffice", __name__, template_folder="templates", url_prefix="/obsluga")


@bp.context_processor
def _signed_in() -> dict[str, Any]:
    """Every staff page knows who is signed in (the header's name and sign-out buttons) and
    which values of the organisation file still hold a shipped `<<UZUPEŁNIJ: …>>`."""
    return {
        "staff": current_staff(),
        "unfilled": unfilled_placeholders(services().organisation),
    }


@bp.app_template_filter("datetime_pl_in")
def _datetime_pl_in(moment: datetime, timezone: str) -> str:
    return datetime_pl(moment.astimezone(ZoneInfo(timezone)))


EVENT = "/wydarzenia/<slug>"

bp.add_url_rule("/", view_func=event_views.index)
bp.add_url_rule("/logowanie", view_func=signin_views.sign_in, methods=["GET", "POST"])
bp.add_url_rule("/logowanie/<token>", view_func=signin_views.sign_in_link, methods=["GET", "POST"])
bp.add_url_rule("/wyloguj", view_func=signin_views.sign_out, methods=["POST"])
bp.add_url_rule("/wyloguj-wszedzie", view_func=signin_views.sign_out_everywhere, methods=["POST"])
bp.add_url_rule("/historia", view_func=history_views.history)
bp.add_url_rule("/wydarzenia/nowe", view_func=event_views.new_event, methods=["GET", "POST"])
bp.add_url_rule(f"{EVENT}/", view_func=event_views.event_page)
bp.add_url_rule(f"{EVENT}/edycja", view_func=event_views.edit_event, methods=["GET", "POST"])
bp.add_url_rule(f"{EVENT}/publikacja", view_func=event_views.publish, methods=["POST"])
bp.add_url_rule(f"{EVENT}/wycofanie", view_func=event_views.unpublish, methods=["POST"])
bp.add_url_rule(f"{EVENT}/usuniecie", view_func=event_views.delete_event, methods=["GET", "POST"])
bp.add_url_rule(
    f"{EVENT}/zamkniecie", view_func=event_views.close_registration, methods=["GET", "POST"]
)
bp.add_url_rule(f"{EVENT}/otwarcie", view_func=event_views.reopen_registration, methods=["POST"])
bp.add_url_rule(f"{EVENT}/podglad", view_func=event_views.preview)
bp.add_url_rule(f"{EVENT}/arkusz", view_func=event_views.workbook)
bp.add_url_rule(f"{EVENT}/listy", view_func=list_views.lists_page)
bp.add_url_rule(
    f"{EVENT}/pytania", view_func=question_views.questions_page, methods=["GET", "POST"]
)
bp.add_url_rule(f"{EVENT}/listy/<kind>.<fmt>", view_func=list_views.download)

# Registrations handled in the staff pages (issue 18).
REGISTRATION = "/zgloszenia/<registration_id>"
bp.add_url_rule(f"{EVENT}/zgloszenia", view_func=registration_views.registrations_table)
bp.add_url_rule(
    f"{EVENT}/zgloszenia/nowe",
    view_func=registration_views.add_registration,
    methods=["GET", "POST"],
)
bp.add_url_rule(REGISTRATION, view_func=registration_views.registration_page)
bp.add_url_rule(
    f"{REGISTRATION}/poprawki",
    view_func=registration_views.correct_registration,
    methods=["GET", "POST"],
)
bp.add_url_rule(
    f"{REGISTRATION}/adres", view_func=registration_views.set_email, methods=["GET", "POST"]
)
bp.add_url_rule(
    f"{REGISTRATION}/zamiana", view_func=registration_views.swap_person, methods=["GET", "POST"]
)
bp.add_url_rule(
    f"{REGISTRATION}/usuniecie",
    view_func=registration_views.erase_registration,
    methods=["GET", "POST"],
)
bp.add_url_rule(f"{EVENT}/wiadomosci", view_func=message_views.messages, methods=["GET", "POST"])
bp.add_url_rule(f"{REGISTRATION}/decyzja", view_func=decision_views.decision_page)
bp.add_url_rule(f"{REGISTRATION}/decyzja", view_func=decision_views.decide, methods=["POST"])
bp.add_url_rule(
    f"{REGISTRATION}/decyzja/cofnij", view_func=decision_views.withdraw, methods=["POST"]
)
