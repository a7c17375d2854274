"""Who is signed in, and one decorator per view saying who may see it.

`@full_staff` views are for the addresses on the staff lists, `@checkin_staff` views for
check-in staff too. Without a session a page redirects to the sign-in page, which returns to it
afterwards; with a session of the wrong role it is a 403. Each request reads the session (one
read by its primary key) and checks its address against the lists in force. A POST must carry
the form's CSRF token.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec
from urllib.parse import urlencode, urlsplit

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from backoffice.roles import Role, StaffLists
from backoffice.signin import SignInLinks, StaffSessions
from catalogue.editing import EventEditor
from forms.views import csrf_problem

P = ParamSpec("P")
COOKIE = "owes_obsluga"
STAFF_PREFIX = "/obsluga/"
EXTENSION_KEY = "owes-backoffice"
DEFAULT_NEXT = "/obsluga/"


@dataclass(frozen=True)
class Backoffice:
    """The staff side's services, made once by the application factory."""

    lists: StaffLists
    links: SignInLinks
    sessions: StaffSessions
    editor: EventEditor
    secure_cookies: bool


@dataclass(frozen=True)
class Staff:
    """The signed-in person of this request."""

    email: str
    role: Role
    session_id: str

    @property
    def full(self) -> bool:
        return self.role is Role.STAFF


def backoffice(app: Flask | None = None) -> Backoffice:
    found: Backoffice = (app or current_app).extensions[EXTENSION_KEY]
    return found


def current_staff() -> Staff | None:
    """The signed-in staff member of this request, or None (read once per request)."""
    if "owes_staff" not in g:
        g.owes_staff = _read_session()
    staff: Staff | None = g.owes_staff
    return staff


def signed_in() -> bool:
    """Whether the request comes from a signed-in staff session (no read without its cookie):
    such POSTs are not rate-limited."""
    return bool(request.cookies.get(COOKIE)) and current_staff() is not None


def _read_session() -> Staff | None:
    from config.services import services

    session_id = request.cookies.get(COOKIE, "")
    if not session_id:
        return None
    found = backoffice().sessions.find(session_id, services().now())
    if found is None:
        return None
    session, role = found
    return Staff(session.email, role, session_id)


def safe_next(path: str | None) -> str | None:
    """A path of this service to return to after signing in; None for anything else (another
    site, a scheme, a protocol-relative `//host`, a backslash some browsers read as `/`)."""
    if not path or len(path) > 500 or not path.startswith("/") or path.startswith("//"):
        return None
    if "\\" in path or any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        return None
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return None
    return path


def sign_in_redirect() -> ResponseReturnValue:
    """To the sign-in page, which brings the person back here afterwards."""
    here = request.full_path if request.query_string else request.path
    query = urlencode({"dalej": here}) if safe_next(here) else ""
    target = url_for("backoffice.sign_in") + (f"?{query}" if query else "")
    return redirect(target, code=303 if request.method == "POST" else 302)


View = Callable[P, ResponseReturnValue]


def _guarded(allowed: frozenset[Role]) -> Callable[[View[P]], View[P]]:
    def decorate(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
            staff = current_staff()
            if staff is None:
                return sign_in_redirect()
            if staff.role not in allowed:
                abort(403)
            if request.method == "POST" and (problem := csrf_problem()):
                return expired_form(problem)
            return view(*args, **kwargs)

        guarded.staff_roles = allowed  # type: ignore[attr-defined]
        return guarded

    return decorate


full_staff = _guarded(frozenset({Role.STAFF}))
checkin_staff = _guarded(frozenset({Role.STAFF, Role.CHECKIN}))


def expired_form(problem: str) -> ResponseReturnValue:
    """A staff form sent without its CSRF token (or a stale one): nothing was done."""
    page = render_template("obsluga/message.html", title="Formularz wygasł", message=problem)
    return page, 400


def keep_private(response: Response) -> Response:
    """Every staff page, download and sign-in link: never cached, never a Referer."""
    if request.path == STAFF_PREFIX.rstrip("/") or request.path.startswith(STAFF_PREFIX):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


def set_session_cookie(response: Response, session_id: str) -> None:
    office = backoffice()
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=int(office.sessions.duration.total_seconds()),
        path="/",
        secure=office.secure_cookies,
        httponly=True,
        samesite="Lax",
    )


def clear_session_cookie(response: Response) -> None:
    office = backoffice()
    response.delete_cookie(
        COOKIE, path="/", secure=office.secure_cookies, httponly=True, samesite="Lax"
    )
