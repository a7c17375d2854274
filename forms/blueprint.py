"""URL rules of the participant pages."""

from urllib.parse import quote

from flask import Blueprint

from forms import attendance, manage, views

MANAGE_RULE = "/wydarzenia/<slug>/zgloszenie/<token>"

bp = Blueprint("forms", __name__, template_folder="templates", static_folder="static")

bp.add_url_rule("/", view_func=views.index)
bp.add_url_rule("/wydarzenia/<slug>/", view_func=views.registration_form, methods=["GET", "POST"])
bp.add_url_rule("/wydarzenia/<slug>/potwierdzenie", view_func=views.confirmation)
bp.add_url_rule(MANAGE_RULE, view_func=manage.registration, methods=["GET", "POST"])
bp.add_url_rule(f"{MANAGE_RULE}/rezygnacja", view_func=manage.cancel, methods=["GET", "POST"])
bp.add_url_rule(f"{MANAGE_RULE}/udzial", view_func=attendance.answer, methods=["GET", "POST"])
bp.add_url_rule(f"{MANAGE_RULE}/moje-dane", view_func=manage.download_data)
bp.add_url_rule(f"{MANAGE_RULE}/moje-dane.html", view_func=manage.own_data_page)
bp.add_url_rule(
    "/wydarzenia/<slug>/przypomnij-link", view_func=manage.remind, methods=["GET", "POST"]
)
bp.after_app_request(views.keep_private)
bp.after_app_request(views.polish_redirect)


def event_url(base_url: str, slug: str) -> str:
    """The event's public page (the form), absolute: e-mails and calendar entries link to it."""
    return f"{base_url.rstrip('/')}/wydarzenia/{quote(slug)}/"


def manage_url(base_url: str, slug: str, token: str) -> str:
    """The absolute private link, outside a request too (e-mails are sent by a worker)."""
    path = MANAGE_RULE.replace("<slug>", quote(slug)).replace("<token>", quote(token))
    return base_url.rstrip("/") + path
