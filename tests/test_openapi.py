"""The API's contract: a valid OpenAPI 3.1 document of every /api route, generated from the
models the API answers with, a page to read it, and schemathesis fuzzing the running app."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import pytest
import schemathesis
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from schemathesis import BaseSchema
from werkzeug.exceptions import ServiceUnavailable, TooManyRequests

from config.settings import Settings
from forms.api_models import ApiError, RefusedError
from forms.limits import EXTENSION_KEY
from forms.messages import REFUSALS, STORE_UNAVAILABLE, STORE_UNREADABLE
from forms.openapi import EXAMPLE_EVENT, JSON, REF_TEMPLATE, document, openapi_path
from registrations.schema import RegistrationData, RegistrationIn
from tests.conftest import OPEN, LiveServer, own_events, valid_payload, write_open_event

SEED = 20180827  # the seed event's first day: the same cases on every run
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The limiter on, as in production, but with room for every fuzzed case: a fuzzer that
    meets 429 after 60 POSTs tests the limiter instead of the validation behind it."""
    return settings.model_copy(
        update={"ratelimit_enabled": True, "ratelimit_registrations": "100000 per minute"}
    )


@pytest.fixture
def events_dir(tmp_path: Path) -> Path:
    """The tests' events and the document's example event, so its examples reach the rules."""
    folder = own_events(tmp_path / "events")
    write_open_event(folder, EXAMPLE_EVENT)
    return folder


def test_the_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    served = client.get("/api/openapi.json")

    assert served.status_code == 200
    assert served.mimetype == "application/json"
    assert served.get_json() == document()
    assert served.get_json()["openapi"].startswith("3.1.")
    OpenAPIV31SpecValidator(served.get_json()).validate()


def test_every_api_route_of_the_app_is_in_the_document(app: Flask) -> None:
    routes = {
        (openapi_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    documented = {(path, method) for path, item in document()["paths"].items() for method in item}

    assert routes and routes <= documented, routes - documented


def test_bodies_are_the_models_the_code_validates_and_answers_with() -> None:
    schemas = document()["components"]["schemas"]

    assert schemas["RegistrationIn"] == _without_defs(
        RegistrationIn.model_json_schema(ref_template=REF_TEMPLATE)
    )
    assert set(schemas["RegistrationChange"]["properties"]) == set(RegistrationIn.model_fields)
    assert "required" not in schemas["RegistrationChange"]
    # What the API answers about a registration's data is what a submission holds.
    assert set(RegistrationData.model_fields) == set(RegistrationIn.model_fields)


@pytest.mark.parametrize(
    ("changes", "valid"),
    [
        ({}, True),
        ({"pesel": None, "birth_date": "2002-07-08"}, True),
        ({"pesel": "02270803624", "birth_date": None}, True),
        ({"pesel": None, "birth_date": None}, False),
        ({"pesel": "   ", "birth_date": None}, False),
        ({"pesel": None}, False),  # and no birth date
    ],
)
def test_the_document_says_pesel_or_a_birth_date_must_be_given(
    client: FlaskClient, changes: dict[str, Any], valid: bool
) -> None:
    schema = _resolvable(document()["components"]["schemas"]["RegistrationIn"])
    payload = {**valid_payload(), **changes}

    documented = Draft202012Validator(schema).is_valid(payload)
    answered = client.post(f"/api/events/{OPEN}/registrations", json=payload).status_code

    assert documented is valid
    assert (answered == 201) is valid  # the API agrees with its document


def test_a_documented_change_may_not_clear_both_pesel_and_birth_date() -> None:
    schema = _resolvable(document()["components"]["schemas"]["RegistrationChange"])
    validator = Draft202012Validator(schema)

    assert validator.is_valid({"role": "skarbnik"})
    assert validator.is_valid({"pesel": None, "birth_date": "2002-07-08"})
    assert not validator.is_valid({"pesel": None, "birth_date": None})


def _resolvable(schema: dict[str, Any]) -> dict[str, Any]:
    """A component schema whose `#/components/schemas/…` references resolve on its own."""
    doc = document()
    return {**schema, "components": doc["components"]}


def _without_defs(schema: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in schema.items() if key != "$defs"}


def test_every_answer_has_a_documented_error_body_and_429_its_retry_after() -> None:
    for item in document()["paths"].values():
        for operation in item.values():
            responses = operation["responses"]
            assert {"429", "503"} <= set(responses)
            assert "Retry-After" in responses["429"]["headers"]
            if "requestBody" in operation:
                assert {"400", "413", "415", "422"} <= set(responses)


def test_the_documents_examples_are_accepted_by_the_api(client: FlaskClient) -> None:
    operations = document()["paths"]
    register = operations["/api/events/{slug}/registrations"]["post"]["requestBody"]
    change = operations["/api/registrations/{token}"]["patch"]["requestBody"]

    created = client.post(
        f"/api/events/{EXAMPLE_EVENT}/registrations", json=register["content"][JSON]["example"]
    )
    assert created.status_code == 201, created.get_json()
    token = created.get_json()["manage_url"].rsplit("/", 1)[1]
    changed = client.patch(f"/api/registrations/{token}", json=change["content"][JSON]["example"])
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["data"]["diet_other"] == "bez laktozy"


def test_an_api_error_keeps_the_headers_http_asks_for(client: FlaskClient) -> None:
    response = client.get(f"/api/events/{OPEN}/registrations")

    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
    assert set(response.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}


def test_a_429_under_api_is_the_documented_error_with_retry_after(app: Flask) -> None:
    """Whoever throttles (Flask-Limiter raises werkzeug's TooManyRequests), the answer is this."""

    def throttled() -> str:
        raise TooManyRequests(retry_after=30)

    app.add_url_rule("/api/throttled", view_func=throttled)

    response = app.test_client().get("/api/throttled")

    assert response.status_code == 429
    assert response.mimetype == "application/json"
    body = ApiError.model_validate(response.get_json())
    assert body.error == "too_many_requests" and body.message
    assert response.headers["Retry-After"] == "30"
    documented = document()["paths"]["/api/events"]["get"]["responses"]["429"]
    assert _conforms(response.get_json(), documented["content"][JSON]["schema"]) == []
    assert documented["headers"]["Retry-After"]["required"] is True


def test_a_503_raised_under_api_answers_unavailable_as_the_store_failures_do(app: Flask) -> None:
    def away() -> str:
        raise ServiceUnavailable()

    app.add_url_rule("/api/away", view_func=away)

    response = app.test_client().get("/api/away")

    assert response.status_code == 503
    assert response.get_json()["error"] == "unavailable"


def _error_codes(operation: dict[str, Any], status: str) -> list[str]:
    schema = _resolve(operation["responses"][status]["content"][JSON]["schema"])
    error = schema["properties"]["error"]
    return [error["const"]] if "const" in error else list(error["enum"])


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    name = schema["$ref"].rsplit("/", 1)[1]
    resolved: dict[str, Any] = document()["components"]["schemas"][name]
    return resolved


def _conforms(body: Any, schema: dict[str, Any]) -> list[str]:
    """The body's mistakes against a schema of the document (its `$ref`s resolved there)."""
    validator = Draft202012Validator({**schema, "components": document()["components"]})
    return [error.message for error in validator.iter_errors(body)]


def test_each_error_answer_pins_exactly_the_codes_the_api_gives_with_its_status() -> None:
    paths = document()["paths"]
    create = paths["/api/events/{slug}/registrations"]["post"]
    change = paths["/api/registrations/{token}"]["patch"]

    for item in paths.values():
        for operation in item.values():
            assert _error_codes(operation, "503") == ["unavailable"]
            assert _error_codes(operation, "429") == ["too_many_requests"]
            if "404" in operation["responses"]:
                assert _error_codes(operation, "404") == ["not_found"]
    assert set(_error_codes(create, "409")) == {refusal.code for refusal in REFUSALS}
    assert set(get_args(RefusedError.model_fields["error"].annotation)) == {
        refusal.code for refusal in REFUSALS
    }
    assert _error_codes(create, "403") == ["registration_closed"]
    assert _error_codes(change, "403") == ["change_not_allowed"]
    assert _error_codes(create, "413") == ["request_entity_too_large"]
    assert _error_codes(create, "415") == ["unsupported_media_type"]
    assert _error_codes(create, "400") == ["invalid_json", "bad_request"]
    # A code outside the list does not conform: the fuzzer's schema check would catch it.
    other = {"error": "service_unavailable", "message": STORE_UNAVAILABLE}
    assert _conforms(other, create["responses"]["503"]["content"][JSON]["schema"])


@pytest.fixture
def store_down(app: Flask, settings: Settings) -> str:
    """A registration's token, then the SQLite file gone and a folder in its place."""
    created = app.test_client().post(f"/api/events/{OPEN}/registrations", json=valid_payload())
    token: str = created.get_json()["manage_url"].rsplit("/", 1)[1]
    app.extensions["owes"].store.dispose()
    database = settings.instance_path / "registrations.sqlite3"  # type: ignore[operator]
    for path in database.parent.glob("registrations.sqlite3*"):
        path.unlink()
    database.mkdir()
    return token


def test_with_the_store_down_every_api_endpoint_answers_the_documented_503(
    app: Flask, store_down: str
) -> None:
    client = app.test_client()
    answered = []
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            if operation["operationId"] in ("openapi_document", "api_docs"):
                continue  # they need no store
            url = path.format(slug=OPEN, token=store_down)
            body = (
                operation["requestBody"]["content"][JSON]["example"]
                if "requestBody" in operation
                else None
            )
            response = client.open(url, method=method.upper(), json=body)

            answered.append((method, path))
            assert response.status_code == 503, (method, path, response.get_json())
            message = STORE_UNREADABLE if method == "get" else STORE_UNAVAILABLE
            assert response.get_json() == {"error": "unavailable", "message": message}
            schema = operation["responses"]["503"]["content"][JSON]["schema"]
            assert _conforms(response.get_json(), schema) == [], (method, path)
    assert len(answered) == 7  # GET /api/events/{slug} too


def test_the_own_data_answer_is_documented_field_by_field(client: FlaskClient) -> None:
    created = client.post(f"/api/events/{OPEN}/registrations", json=valid_payload())
    token = created.get_json()["manage_url"].rsplit("/", 1)[1]
    client.delete(f"/api/registrations/{token}")  # a status change in the history
    operation = document()["paths"]["/api/registrations/{token}/data"]["get"]
    schema = operation["responses"]["200"]["content"][JSON]["schema"]

    response = client.get(f"/api/registrations/{token}/data")

    assert response.status_code == 200
    body = response.get_json()
    assert _conforms(body, schema) == []
    documented = _resolve(schema)
    assert documented.get("additionalProperties") is False
    assert set(documented["required"]) == set(body)
    registration = _resolve(documented["properties"]["registration"])
    assert set(registration["required"]) == set(body["registration"])
    assert set(RegistrationIn.model_fields) < set(registration["properties"])
    history = _resolve(documented["properties"]["status_history"]["items"])
    assert set(history["required"]) == {"at", "from", "to", "by", "decision"}
    assert [(c["from"], c["to"]) for c in body["status_history"]] == [("confirmed", "cancelled")]
    assert _conforms({**body, "registration": {}}, schema) != []


def test_the_docs_page_shows_every_operation_and_schema_without_inline_script_or_style(
    client: FlaskClient,
) -> None:
    response = client.get("/api/docs")

    assert response.status_code == 200
    page = BeautifulSoup(response.text, "html.parser")
    assert page.find_all(["script", "style"]) == []
    assert [tag.name for tag in page.find_all(style=True)] == []
    assert [
        (tag.name, attribute)
        for tag in page.find_all(True)
        for attribute in tag.attrs
        if attribute.startswith("on")
    ] == []
    external = [
        tag.get("href") or tag.get("src")
        for tag in page.find_all(["link", "img", "iframe"])
        if str(tag.get("href") or tag.get("src") or "").startswith(("http:", "https:", "//"))
    ]
    assert external == []
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            section = page.find(id=operation["operationId"])
            assert section is not None and f"{method.upper()} {path}" in section.get_text()
            for status in operation["responses"]:
                assert status in section.get_text()
    for name in document()["components"]["schemas"]:
        assert page.find(id=f"schema-{name}") is not None
    registration_in = page.find(id="schema-RegistrationIn")
    assert registration_in is not None
    assert registration_in.find("code", string="first_name") is not None


def test_the_readme_links_the_docs_page() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")

    assert "/api/docs" in readme and "/api/openapi.json" in readme


# --- schemathesis against the running app ---------------------------------------------------


def add_every_kind_of_question(app: Flask, slug: str) -> None:
    """One optional question of each kind, the stop with a seat limit (issue 17)."""
    from datetime import UTC, datetime

    from registrations.question_editing import QuestionEditor, QuestionForm
    from sheets.rows import HEADERS

    editor = QuestionEditor(app.extensions["owes"].store, HEADERS)
    event, now = app.extensions["owes"].events[slug], datetime.now(UTC)
    for form in (
        QuestionForm("Miejsce wsiadania", "wybor", choices="Żary | 2 | 7:00\nZielona Góra"),
        QuestionForm("Posiłki", "wiele", choices="obiad\nkolacja"),
        QuestionForm("Z kim pokój", "tekst"),
        QuestionForm("Uwagi do przejazdu", "tekst_dlugi"),
        QuestionForm("Autokar z powrotem", "tak_nie"),
        QuestionForm("Dzień przyjazdu", "data"),
    ):
        editor.add(event, form, by="test", now=now)


@pytest.fixture
def api_schema(app: Flask, live_server: LiveServer) -> BaseSchema:
    """The served document, loaded by schemathesis, fuzzing the app over real HTTP.

    A registration is stored first, so the token endpoints see a valid token as well as
    random ones, and the events' slugs are offered besides random text, so a POST reaches
    the real validation rather than only 404.
    """
    add_every_kind_of_question(app, OPEN)  # the event's own questions are fuzzed too
    created = app.test_client().post(
        f"/api/events/{OPEN}/registrations", json=valid_payload(email="fuzz@example.pl")
    )
    assert created.status_code == 201
    token = created.get_json()["manage_url"].rsplit("/", 1)[1]
    assert app.extensions[EXTENSION_KEY].enabled  # the limiter stays on, with room to fuzz
    slugs = sorted(app.extensions["owes"].events)
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"deterministic": True, "max-examples": 100, "database": "none"},
            "request-timeout": 10,
            "checks": {"enabled": False} | {check: {"enabled": True} for check in CHECKS},
        }
    )
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/openapi.json", config=config)

    @schema.hook
    def flatmap_path_parameters(context: Any, parameters: dict[str, Any] | None) -> Any:
        choices = [st.just(parameters)]
        if not isinstance(parameters, dict):
            return choices[0]
        if "slug" in parameters:
            choices.append(st.sampled_from(slugs).map(lambda slug: {**parameters, "slug": slug}))
        if "token" in parameters:
            choices.append(st.just({**parameters, "token": token}))
        return st.one_of(choices)

    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hypothesis_settings(deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
def test_every_answer_of_the_running_app_conforms_to_the_document(case: Any) -> None:
    response = case.call_and_validate()
    assert response.status_code != 429, "the fuzzer should reach the validation, not the limit"
