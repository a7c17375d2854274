"""Signing in with an e-mailed link, and out (here, or on every device)."""

from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from backoffice.access import (
    DEFAULT_NEXT,
    backoffice,
    checkin_staff,
    clear_session_cookie,
    current_staff,
    expired_form,
    safe_next,
    set_session_cookie,
)
from backoffice.roles import Role
from backoffice.signin import LinkState, Signed
from config.services import services
from forms.views import csrf_problem
from registrations.polish import plural

NEXT = "dalej"  # the path to return to, in the query and the form


def sign_in() -> ResponseReturnValue:
    """Ask for a link: the same answer for any address, listed or not."""
    svc = services()
    next_path = safe_next(request.values.get(NEXT))
    minutes = plural(svc.settings.staff_link_minutes, "minutę", "minuty", "minut")
    if request.method == "GET":
        return render_template(
            "obsluga/sign_in.html", next_path=next_path, sent=False, minutes=minutes
        )
    if problem := csrf_problem():
        return render_template(
            "obsluga/sign_in.html", next_path=next_path, sent=False, error=problem, minutes=minutes
        ), 400
    email = request.form.get("email", "")[:320]
    if backoffice().links.request(email, next_path, svc.now()):
        svc.mail_worker.wake()
    return render_template("obsluga/sign_in.html", next_path=next_path, sent=True, minutes=minutes)


def sign_in_link(token: str) -> ResponseReturnValue:
    """The e-mailed link: one button (GET changes nothing: mail scanners follow links), and
    the sign-in itself on POST."""
    svc = services()
    office = backoffice()
    if request.method == "GET":
        state = office.links.state(token, svc.now())
        return _link_page(token, state)
    if problem := csrf_problem():
        return expired_form(problem)
    outcome = office.links.use(token, svc.now(), office.sessions)
    if not isinstance(outcome, Signed):
        return _link_page(token, outcome)
    landing = DEFAULT_NEXT if outcome.role is Role.STAFF else url_for("checkin.events")
    response = make_response(redirect(outcome.next_path or landing, code=303))
    set_session_cookie(response, outcome.session_id)
    return response


_STATUS = {
    LinkState.VALID: 200,
    LinkState.USED: 410,
    LinkState.EXPIRED: 410,
    LinkState.UNKNOWN: 404,
}


def _link_page(token: str, state: LinkState) -> ResponseReturnValue:
    page = render_template("obsluga/sign_in_link.html", token=token, state=state, States=LinkState)
    return page, _STATUS[state]


@checkin_staff
def sign_out() -> ResponseReturnValue:
    return _sign_out(everywhere=False)


@checkin_staff
def sign_out_everywhere() -> ResponseReturnValue:
    return _sign_out(everywhere=True)


def _sign_out(*, everywhere: bool) -> ResponseReturnValue:
    staff = current_staff()
    assert staff is not None
    backoffice().sessions.end(staff.session_id, services().now(), everywhere=everywhere)
    done = "wszedzie" if everywhere else "tak"
    response = make_response(redirect(url_for("backoffice.sign_in", wylogowano=done), code=303))
    clear_session_cookie(response)
    return response
