"""URL rules of the check-in pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask

from backoffice.access import current_staff
from checkin import views
from checkin.codes import CHECKIN_RULE, checkin_qr
from config.organisation import unfilled_placeholders
from config.services import services

bp = Blueprint("checkin", __name__, template_folder="templates")

EVENT = "/obsluga/wydarzenia/<slug>"


@bp.context_processor
def _signed_in() -> dict[str, Any]:
    """The staff pages' header (who is signed in), as on the other staff pages."""
    staff = current_staff()
    return {
        "staff": staff,
        "unfilled": unfilled_placeholders(services().organisation) if staff else [],
    }


@bp.app_context_processor
def _checkin_code() -> dict[str, Any]:
    """The private page shows the registration's check-in QR code (`_checkin_code.html`)."""
    return {"checkin_qr": checkin_qr}


bp.add_url_rule("/obsluga/obecnosc", view_func=views.events)
bp.add_url_rule(f"{EVENT}/obecnosc", view_func=views.attendance, methods=["GET", "POST"])
bp.add_url_rule(f"{EVENT}/obecnosc/skanowanie", view_func=views.switch_scanning, methods=["POST"])
bp.add_url_rule(CHECKIN_RULE, view_func=views.scan, methods=["GET", "POST"])


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
