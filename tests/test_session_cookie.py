"""The session cookie: signed as Flask signs it, at no cost to a request that brings none."""

from __future__ import annotations

import pytest
from flask import Flask, session
from flask.sessions import SecureCookieSessionInterface

from forms.session_cookie import CookieSessionInterface


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.secret_key = "first key"
    app.session_interface = CookieSessionInterface()

    @app.post("/remember/<value>")
    def remember(value: str) -> str:
        session["value"] = value
        return "ok"

    @app.get("/recall")
    def recall() -> str:
        return str(session.get("value", "nothing"))

    return app


def test_a_request_without_a_cookie_gets_an_empty_session_without_building_a_signer(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[Flask] = []
    parent = SecureCookieSessionInterface.get_signing_serializer

    def counting(self: SecureCookieSessionInterface, app: Flask) -> object:
        built.append(app)
        return parent(self, app)

    monkeypatch.setattr(SecureCookieSessionInterface, "get_signing_serializer", counting)
    client = app.test_client()

    assert client.get("/recall").text == "nothing"
    assert built == []
    assert "Set-Cookie" not in client.get("/recall").headers


def test_what_one_request_keeps_the_next_one_reads_with_one_signer_for_them_all(
    app: Flask,
) -> None:
    client = app.test_client()

    assert client.post("/remember/Żary").status_code == 200
    assert client.get("/recall").text == "Żary"
    interface = app.session_interface
    assert isinstance(interface, CookieSessionInterface)
    signer = interface.get_signing_serializer(app)
    assert signer is not None and interface.get_signing_serializer(app) is signer


def test_a_new_secret_key_signs_anew_and_a_cookie_under_a_fallback_key_is_still_read(
    app: Flask,
) -> None:
    client = app.test_client()
    client.post("/remember/Zielona Góra")

    app.secret_key = "second key"
    assert client.get("/recall").text == "nothing"  # signed under a key no longer known

    app.config["SECRET_KEY_FALLBACKS"] = ["first key"]
    assert client.get("/recall").text == "Zielona Góra"
