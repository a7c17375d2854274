"""URL rules of the participant pages."""

from flask import Blueprint

from forms import views

bp = Blueprint("forms", __name__, template_folder="templates", static_folder="static")

bp.add_url_rule("/", view_func=views.index)
bp.add_url_rule("/wydarzenia/<slug>/", view_func=views.registration_form, methods=["GET", "POST"])
bp.add_url_rule("/wydarzenia/<slug>/potwierdzenie", view_func=views.confirmation)
