"""The headers a security review expects on every kind of answer, and the session cookie."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import create_app
from config.services import services
from config.settings import Settings
from registrations.operations import StoreUnavailable
from tests.conftest import KLASTER, FakeClock, valid_payload

FORM = f"/wydarzenia/{KLASTER}/"
API = f"/api/events/{KLASTER}/registrations"


def registered(client: FlaskClient) -> str:
    """A registration's private-link token."""
    response = client.post(API, json=valid_payload())
    assert response.status_code == 201
    return str(response.get_json()["manage_url"].rsplit("/", 1)[1])


def csp_directives(response: TestResponse) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives = [part.split() for part in policy.split(";") if part.strip()]
    return {name: values for name, *values in directives}


def assert_secure_headers(response: TestResponse) -> None:
    csp = csp_directives(response)
    assert csp["frame-ancestors"] == ["'none'"]
    for kind in ("script-src", "style-src"):
        sources = csp.get(kind, csp["default-src"])
        assert "'unsafe-inline'" not in sources and "*" not in sources
        assert not [source for source in sources if source.startswith(("'nonce", "'sha"))]
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in {"same-origin", "no-referrer"}


def assert_no_inline_code(response: TestResponse) -> None:
    """What the policy would block: inline scripts, style elements and attributes, handlers."""
    soup = BeautifulSoup(response.text, "html.parser")
    assert not soup.find_all("style")
    assert not [script for script in soup.find_all("script") if not script.get("src")]
    for element in soup.find_all(True):
        inline = [name for name in element.attrs if name == "style" or name.startswith("on")]
        assert not inline, f"<{element.name}> has {inline}"
        assert not str(element.get("href", "")).startswith("javascript:")


def every_kind_of_answer(app: Flask, client: FlaskClient) -> dict[str, TestResponse]:
    """One answer of each kind the service gives, errors included."""
    token = registered(client)
    link = f"/wydarzenia/{KLASTER}/zgloszenie/{token}"
    form = client.get(FORM)
    csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    data = {"csrf_token": csrf, **{k: str(v) for k, v in valid_payload().items()}}
    data.update(
        email="inna@example.pl", consent_personal_data="tak", powiat="0809", accommodation="tak"
    )
    posted = client.post(FORM, data=data)
    assert posted.status_code == 303, posted.text
    answers = {
        "index": client.get("/"),
        "form": form,
        "form with errors": client.post(FORM, data={"csrf_token": csrf}),
        "confirmation": client.get(posted.headers["Location"]),
        "private link": client.get(link),
        "cancel": client.get(f"{link}/rezygnacja"),
        "lost link": client.get(f"/wydarzenia/{KLASTER}/przypomnij-link"),
        "404": client.get("/nie-ma-takiej-strony"),
        "404 link": client.get(f"/wydarzenia/{KLASTER}/zgloszenie/zly-token"),
        "405": client.delete("/"),
        "413": client.post(FORM, data={"x": "y" * (app.config["MAX_CONTENT_LENGTH"] + 1)}),
        "api events": client.get("/api/events"),
        "api registration": client.get(f"/api/registrations/{token}"),
        "api 404": client.get("/api/registrations/zly-token"),
        "api 405": client.put(API),
        "api 413": client.post(
            API, data="x" * (app.config["MAX_CONTENT_LENGTH"] + 1), content_type="application/json"
        ),
        "api 415": client.post(API, data="x"),
        "healthz": client.get("/healthz"),
        "static": client.get("/static/style.css"),
    }
    window = services(app).registrations.window

    def fail(exc: Exception) -> Any:
        def broken(*args: Any, **kwargs: Any) -> Any:
            raise exc

        return broken

    registrations = services(app).registrations
    for status, exc in (("500", RuntimeError("a bug")), ("503", StoreUnavailable("away"))):
        registrations.window = fail(exc)  # type: ignore[method-assign]
        answers[status] = client.get("/")
        answers[f"api {status}"] = client.get("/api/events")
    registrations.window = window  # type: ignore[method-assign]
    for response in answers.values():
        response.close()  # the static file's
    return answers


EXPECTED = {"404": 404, "404 link": 404, "405": 405, "413": 413, "500": 500, "503": 503}


def test_every_kind_of_answer_carries_the_security_headers(app: Flask, client: FlaskClient) -> None:
    answers = every_kind_of_answer(app, client)

    for kind, response in answers.items():
        expected = EXPECTED.get(kind.removeprefix("api "))
        if expected is not None:
            assert response.status_code == expected, kind
        assert "Strict-Transport-Security" not in response.headers, kind
        try:
            assert_secure_headers(response)
        except AssertionError as failure:
            raise AssertionError(f"{kind}: {failure}") from failure


def test_no_page_has_inline_scripts_or_styles_the_policy_would_block(
    app: Flask, client: FlaskClient
) -> None:
    for kind, response in every_kind_of_answer(app, client).items():
        if response.mimetype == "text/html":
            try:
                assert_no_inline_code(response)
            except AssertionError as failure:
                raise AssertionError(f"{kind}: {failure}") from failure


def test_the_private_link_pages_keep_no_referrer_and_no_store(
    app: Flask, client: FlaskClient
) -> None:
    answers = every_kind_of_answer(app, client)

    for kind in ("confirmation", "private link", "cancel", "404 link", "api registration"):
        assert answers[kind].headers["Referrer-Policy"] == "no-referrer", kind
        assert answers[kind].headers["Cache-Control"] == "no-store", kind
    assert answers["index"].headers["Referrer-Policy"] == "same-origin"


@pytest.fixture
def https_app(settings: Settings, clock: FakeClock) -> Iterator[Flask]:
    https = settings.model_copy(update={"public_base_url": "https://zapisy.owes.example.pl"})
    app = create_app(https, clock=clock)
    app.config["TESTING"] = True
    yield app
    services(app).store.dispose()


def test_behind_https_every_answer_asks_for_https_from_then_on(https_app: Flask) -> None:
    client = https_app.test_client()

    for kind, response in every_kind_of_answer(https_app, client).items():
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000", kind
        assert_secure_headers(response)


def set_cookie(response: TestResponse) -> list[str]:
    [cookie] = [
        value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")
    ]
    return [part.strip() for part in cookie.split(";")]


def test_the_session_cookie_is_httponly_and_samesite_lax(client: FlaskClient) -> None:
    attributes = set_cookie(client.get(FORM))  # the form's CSRF token lives in the session

    assert "HttpOnly" in attributes and "SameSite=Lax" in attributes
    assert "Secure" not in attributes  # http://127.0.0.1 in development


def test_behind_https_the_session_cookie_is_also_secure(https_app: Flask) -> None:
    attributes = set_cookie(https_app.test_client().get(FORM))

    assert {"HttpOnly", "SameSite=Lax", "Secure"} <= set(attributes)
