"""Helpers of the staff pages' tests: the staff lists, signing in, the event form."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from bs4 import BeautifulSoup, Tag
from flask import Flask
from flask.testing import FlaskClient

from backoffice.access import backoffice
from config.services import services
from tests.conftest import shown

COORDINATOR = "koordynatorka@example.pl"
CHECKIN = "drzwi@example.pl"
STAFF_LISTS = {"staff_emails": "Koordynatorka@Example.pl", "checkin_emails": CHECKIN}


def page(html: bytes | str) -> BeautifulSoup:
    """The page parsed, its non-breaking spaces after one-letter words read as spaces."""
    text = html.decode("utf-8") if isinstance(html, bytes) else html
    return BeautifulSoup(text.replace("\u00a0", " "), "html.parser")


def tag(soup: Tag, *args: Any, **kwargs: Any) -> Tag:
    """The element `soup.find` finds, which must be there."""
    found = soup.find(*args, **kwargs)
    assert isinstance(found, Tag), (args, kwargs)
    return found


def value(soup: Tag, name: str, attribute: str = "value") -> str:
    """An attribute (the value) of the input named `name`."""
    return str(tag(soup, "input", {"name": name}).get(attribute, ""))


def textarea(soup: Tag, name: str) -> str:
    return tag(soup, "textarea", {"name": name}).text


def csrf(client: FlaskClient, path: str) -> str:
    found = page(client.get(path).data).find("input", {"name": "csrf_token"})
    assert found is not None, path
    return str(found["value"])


def link_token(app: Flask, email: str, next_path: str | None = None) -> str:
    """A sign-in link's token, as `flask staff link` makes one (no e-mail)."""
    svc = services(app)
    with svc.store.transaction() as session:
        _, token = backoffice(app).links.issue(session, email, next_path, svc.now())
    return token


def sign_in(client: FlaskClient, email: str = COORDINATOR) -> FlaskClient:
    """Sign the client in through a link's page (one button, POST)."""
    assert isinstance(client.application, Flask)
    path = f"/obsluga/logowanie/{link_token(client.application, email)}"
    token = csrf(client, path)
    response = client.post(path, data={"csrf_token": token})
    assert response.status_code == 303, shown(response)
    return client


def future(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def event_form(**changes: Any) -> dict[str, Any]:
    """A new event's form: what a coordinator types, the organisation's defaults for the rest.
    Its registration is open whenever the tests run."""
    form: dict[str, Any] = {
        "title": "Szkolenie: ekonomia społeczna w praktyce",
        "short_title": "Szkolenie ES",
        "slug": "",
        "starts_on": future(40),
        "ends_on": future(41),
        "registration_deadline": future(30),
        "registration_opens_at": "",
        "timezone": "Europe/Warsaw",
        "capacity": "2",
        "max_per_enterprise": "",
        "venue": "Zielona Góra, ul. Pod Topolami 1",
        "summary": "",
        "programme": "",
        "provided": "wyżywienie\nmateriały",
        "meals": "obiad",
        "accommodation_label": "",
        "contact_name": "Adam Szulczewski",
        "contact_role": "animator OWES Zielona Góra",
        "contact_phone": "533 316 283",
        "contact_email": "a.szulczewski@fundacjacp.org",
        "consent_text": "Wyrażam zgodę na przetwarzanie danych.",
        "image_consent_text": "Wyrażam zgodę na wizerunek.",
        "retention_days": "",
        "spreadsheet_id": "",
        "worksheet": "",
        "eligible_powiaty": ["0809", "0862", "0811"],
    }
    form.update(changes)
    return form


def create_event(client: FlaskClient, **changes: Any) -> str:
    """Create a draft through the form; its slug."""
    form = event_form(**changes)
    form["csrf_token"] = csrf(client, "/obsluga/wydarzenia/nowe")
    response = client.post("/obsluga/wydarzenia/nowe", data=form)
    assert response.status_code == 303, shown(response)
    location = response.headers["Location"]
    found = re.search(r"/obsluga/wydarzenia/([^/]+)/$", location)
    assert found is not None, location
    return found.group(1)


def post(client: FlaskClient, path: str, form_path: str | None = None, **data: Any) -> Any:
    """A staff POST with the CSRF token of the page at `form_path` (default: the event list)."""
    data["csrf_token"] = csrf(client, form_path or "/obsluga/wydarzenia/nowe")
    return client.post(path, data=data)


def publish(client: FlaskClient, slug: str) -> None:
    response = post(client, f"/obsluga/wydarzenia/{slug}/publikacja")
    assert response.status_code == 303


def edit(client: FlaskClient, slug: str, /, **changes: Any) -> Any:
    """Save the event's form with `changes` over what it shows now."""
    path = f"/obsluga/wydarzenia/{slug}/edycja"
    form = form_values(client, path)
    form.update(changes)
    return client.post(path, data=form)


def form_values(client: FlaskClient, path: str) -> dict[str, Any]:
    """A form's fields as the browser would send them (checked boxes, textareas, hidden)."""
    soup = page(client.get(path).data)
    form = soup.find("form", {"action": path})
    assert form is not None, path
    values: dict[str, Any] = {}
    for field in form.find_all(["input", "textarea"]):
        name = str(field.get("name") or "")
        if not name:
            continue
        kind = field.get("type", "text")
        if field.name == "textarea":
            values[name] = field.text
        elif kind == "checkbox":
            if field.has_attr("checked"):
                values.setdefault(name, []).append(str(field.get("value")))
        elif kind != "submit":
            values[name] = str(field.get("value", ""))
    return values
