"""Rate limits: every POST counts, 429 with a Polish message and Retry-After, one bucket per
client address (behind a trusted proxy, the forwarded one), kept in memory or in Redis, hashed."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app import create_app
from config.settings import ConfigurationError, Settings
from forms import limits
from forms.limits import client_key
from forms.messages import ERROR_PAGES
from registrations.models import Registration
from tests.conftest import (
    KLASTER,
    OPEN,
    REDIS_KEY_PREFIX,
    free_port,
    gunicorn,
    shown,
    valid_payload,
)
from tests.tcp_proxy import proxy_to

REDIS_URL = "redis://127.0.0.1:6379/3"
API = f"/api/events/{OPEN}/registrations"
FORM = f"/wydarzenia/{OPEN}/"
TOO_MANY = ERROR_PAGES[429]
# This run's keys: the limits library's namespace, then RATELIMIT_KEY_PREFIX.
OUR_KEYS = f"LIMITS:LIMITER/{REDIS_KEY_PREFIX}*"
ADDRESSES = ("127.0.0.1", "10.0.0.1", "203.0.113.5", "203.0.113.77", "198.51.100.1")


def redis_unavailable() -> str | None:
    """None when Redis answers at REDIS_URL, else the reason to skip."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"Redis not reachable at {REDIS_URL}: {exc}"
    finally:
        client.close()
    return None


@pytest.fixture
def secret() -> str:
    """A secret of this test alone: its hashed addresses (the Redis keys) are its own."""
    return f"limits-{uuid.uuid4().hex}"


@pytest.fixture(params=["memory", "redis"])
def storage_uri(request: pytest.FixtureRequest, secret: str) -> Iterator[str]:
    """The limiter's storage: this process's memory, and the Redis of the machine."""
    if request.param == "memory":
        yield "memory://"
        return
    reason = redis_unavailable()
    if reason:
        pytest.skip(reason)
    yield REDIS_URL
    for key in redis_keys(secret):
        redis_client().delete(key)


def redis_client() -> Any:
    import redis

    return redis.Redis.from_url(REDIS_URL, decode_responses=True)


def redis_keys(secret: str) -> list[str]:
    """This test's keys in Redis (found by the hashes of the addresses the tests use)."""
    hashes = [client_key(secret.encode(), address) for address in ADDRESSES]
    keys = redis_client().scan_iter(OUR_KEYS)
    return [key for key in keys if any(h in key for h in hashes)]


AppFactory = Callable[..., Flask]


@pytest.fixture
def make_app(tmp_path: Path, events_dir: Path, secret: str) -> Iterator[AppFactory]:
    """Apps on today's clock (the test event open, the 2018 one closed) with limits as given."""
    built: list[Flask] = []

    def make(**changes: Any) -> Flask:
        settings = Settings(
            instance_path=tmp_path / f"instance{len(built)}",
            events_dir=events_dir,
            secret_key=secret,  # type: ignore[arg-type]
            run_worker=False,
            **{"ratelimit_key_prefix": REDIS_KEY_PREFIX, **changes},
        )
        app = create_app(settings, clock=lambda: datetime.now(UTC))
        app.config["TESTING"] = True
        built.append(app)
        return app

    yield make
    for app in built:
        app.extensions["owes"].store.dispose()


def person(i: int) -> dict[str, Any]:
    return valid_payload(email=f"osoba{i}@example.pl", enterprise_name=f"Firma {i}")


def csrf(client: FlaskClient, url: str = FORM) -> str:
    html = client.get(url).text
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def stored(app: Flask) -> int:
    with app.extensions["owes"].store.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(Registration)) or 0)


def assert_too_many_on_the_api(response: Any) -> None:
    assert response.status_code == 429
    assert response.get_json() == {"error": "too_many_requests", "message": TOO_MANY}
    assert int(response.headers["Retry-After"]) >= 1


def test_over_the_limit_the_api_answers_429_in_polish_with_retry_after(
    make_app: AppFactory, storage_uri: str
) -> None:
    app = make_app(ratelimit_registrations="2 per 10 minutes", ratelimit_storage_uri=storage_uri)
    client = app.test_client()

    answers = [client.post(API, json=person(i)) for i in range(3)]

    assert [a.status_code for a in answers[:2]] == [201, 201]
    assert_too_many_on_the_api(answers[2])
    assert 590 <= int(answers[2].headers["Retry-After"]) <= 600
    assert stored(app) == 2


def test_over_the_limit_the_form_is_a_polish_429_page_with_retry_after(
    make_app: AppFactory, storage_uri: str
) -> None:
    app = make_app(ratelimit_registrations="1 per minute", ratelimit_storage_uri=storage_uri)
    client = app.test_client()
    token = csrf(client)
    client.post(API, json=person(0))  # the form and the API share one bucket

    page = client.post(FORM, data={"csrf_token": token, "first_name": "Jan"})

    assert page.status_code == 429
    assert page.mimetype == "text/html"
    assert TOO_MANY in shown(page) and "Błąd 429" in page.text
    assert 1 <= int(page.headers["Retry-After"]) <= 60


def test_the_limit_resets_when_its_window_has_passed(
    make_app: AppFactory, storage_uri: str
) -> None:
    app = make_app(ratelimit_registrations="2 per 1 second", ratelimit_storage_uri=storage_uri)
    client = app.test_client()
    assert [client.post(API, json=person(i)).status_code for i in range(2)] == [201, 201]
    refused = client.post(API, json=person(2))
    assert_too_many_on_the_api(refused)

    time.sleep(int(refused.headers["Retry-After"]) + 0.1)

    assert client.post(API, json=person(2)).status_code == 201


def test_validation_failures_the_honeypot_a_closed_event_and_unknown_events_count(
    make_app: AppFactory,
) -> None:
    app = make_app(ratelimit_registrations="5 per minute")
    client = app.test_client()
    token = csrf(client)

    outcomes = [
        client.post(API, json=person(0) | {"pesel": "12345678901"}).status_code,
        client.post(FORM, data={"csrf_token": token, "first_name": ""}).status_code,
        client.post(FORM, data={"csrf_token": token, "website": "http://spam"}).status_code,
        client.post(f"/api/events/{KLASTER}/registrations", json=person(1)).status_code,
        client.post("/api/events/nie-ma-takiego/registrations", json=person(2)).status_code,
    ]
    valid_but_late = client.post(API, json=person(3))

    assert outcomes == [422, 422, 400, 403, 404]
    assert_too_many_on_the_api(valid_but_late)
    assert stored(app) == 0


def test_reading_pages_is_never_limited(make_app: AppFactory) -> None:
    app = make_app(ratelimit_registrations="1 per minute")
    client = app.test_client()
    [body] = [client.post(API, json=person(0)).get_json()]
    token = body["manage_url"].rsplit("/", 1)[1]

    for _ in range(5):
        assert client.get(FORM).status_code == 200
        assert client.get(f"/api/registrations/{token}").status_code == 200
        assert client.get(f"/wydarzenia/{OPEN}/przypomnij-link").status_code == 200


def test_the_lost_link_page_and_private_link_changes_share_a_bucket_of_their_own(
    make_app: AppFactory, storage_uri: str
) -> None:
    app = make_app(ratelimit_registrations="3 per minute", ratelimit_storage_uri=storage_uri)
    client = app.test_client()
    body = client.post(API, json=person(0)).get_json()
    token = body["manage_url"].rsplit("/", 1)[1]
    link = f"/wydarzenia/{OPEN}/zgloszenie/{token}"
    remind = f"/wydarzenia/{OPEN}/przypomnij-link"

    changes = [
        client.post(remind, data={"csrf_token": csrf(client, remind), "email": "x@example.pl"}),
        client.patch(f"/api/registrations/{token}", json={"role": "prezes"}),
        client.post(link, data={"csrf_token": "stale"}),  # a refused change counts too
    ]
    cancel_page = client.post(f"{link}/rezygnacja", data={"csrf_token": csrf(client, link)})
    cancel_api = client.delete(f"/api/registrations/{token}")

    assert [r.status_code for r in changes] == [200, 200, 400]
    assert cancel_page.status_code == 429 and TOO_MANY in shown(cancel_page)
    assert_too_many_on_the_api(cancel_api)
    assert client.get(f"/api/registrations/{token}").get_json()["status"] == "confirmed"
    assert client.post(API, json=person(1)).status_code == 201  # registrations: own bucket


def test_behind_a_trusted_proxy_each_forwarded_address_has_its_own_bucket(
    make_app: AppFactory, storage_uri: str
) -> None:
    app = make_app(
        ratelimit_registrations="1 per minute", ratelimit_storage_uri=storage_uri, trusted_proxies=1
    )
    client = app.test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.1"}

    def post(i: int, forwarded_for: str) -> int:
        headers = {"X-Forwarded-For": forwarded_for}
        return client.post(API, json=person(i), headers=headers, environ_base=proxy).status_code

    assert post(0, "203.0.113.5") == 201
    assert post(1, "203.0.113.5") == 429
    assert post(2, "198.51.100.1") == 201
    # A client's own X-Forwarded-For comes before the proxy's entry: it picks no bucket.
    assert post(3, "198.51.100.77, 203.0.113.5") == 429


def test_without_trusted_proxies_x_forwarded_for_is_ignored(
    make_app: AppFactory, storage_uri: str
) -> None:
    app = make_app(ratelimit_registrations="1 per minute", ratelimit_storage_uri=storage_uri)
    client = app.test_client()

    first = client.post(API, json=person(0), headers={"X-Forwarded-For": "203.0.113.5"})
    second = client.post(API, json=person(1), headers={"X-Forwarded-For": "198.51.100.1"})

    assert (first.status_code, second.status_code) == (201, 429)


def test_redis_holds_keyed_hashes_and_never_the_client_address(
    make_app: AppFactory, secret: str
) -> None:
    reason = redis_unavailable()
    if reason:
        pytest.skip(reason)
    app = make_app(ratelimit_storage_uri=REDIS_URL, trusted_proxies=1)
    client = app.test_client()
    try:
        response = client.post(
            API,
            json=person(0),
            headers={"X-Forwarded-For": "203.0.113.77"},
            environ_base={"REMOTE_ADDR": "10.0.0.1"},
        )
        assert response.status_code == 201
        redis = redis_client()
        every_key = list(redis.scan_iter("*"))
        ours = redis_keys(secret)

        assert ours and all(client_key(secret.encode(), "203.0.113.77") in key for key in ours)
        assert not [key for key in every_key if "203.0.113.77" in key or "10.0.0.1" in key]
        for key in ours:  # the values: the moving window's timestamps
            assert "203.0.113.77" not in repr(redis.lrange(key, 0, -1))
    finally:
        for key in redis_keys(secret):
            redis_client().delete(key)


@pytest.mark.slow
def test_gunicorn_workers_share_the_counts_in_redis(
    tmp_path: Path, events_dir: Path, secret: str
) -> None:
    reason = redis_unavailable()
    if reason:
        pytest.skip(reason)
    env = {
        "SECRET_KEY": secret,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "EVENTS_DIR": str(events_dir),
        "RUN_WORKER": "false",
        "RATELIMIT_REGISTRATIONS": "3 per minute",
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": REDIS_KEY_PREFIX,
    }
    try:
        with gunicorn(env, workers=3) as base:
            # A new connection each time: the POSTs land on different workers.
            answers = [requests.post(base + API, json=person(i), timeout=30) for i in range(9)]
    finally:
        for key in redis_keys(secret):
            redis_client().delete(key)

    assert [a.status_code for a in answers] == [201] * 3 + [429] * 6
    assert answers[-1].json()["error"] == "too_many_requests"
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60


def test_the_client_key_is_an_hmac_of_the_address_with_the_secret_key() -> None:
    one = client_key(b"secret", "203.0.113.77")

    assert one == client_key(b"secret", "203.0.113.77")
    assert one != client_key(b"other secret", "203.0.113.77")
    assert one != client_key(b"secret", "203.0.113.78")
    assert "203" not in one and len(one) == 32


def test_when_redis_is_away_registrations_go_through_and_the_log_says_so(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(ratelimit_storage_uri=f"redis://127.0.0.1:{free_port()}/0")

    response = app.test_client().post(API, json=person(0))

    assert response.status_code == 201
    assert "rate limits: their storage (RATELIMIT_STORAGE_URI) does not answer" in caplog.text


def test_ratelimit_enabled_false_turns_the_limits_off(make_app: AppFactory) -> None:
    app = make_app(ratelimit_enabled=False, ratelimit_registrations="1 per minute")
    client = app.test_client()

    assert [client.post(API, json=person(i)).status_code for i in range(3)] == [201] * 3


def test_the_default_lets_an_office_register_together_and_stops_a_script() -> None:
    from limits import parse_many

    [limit] = parse_many(Settings().ratelimit_registrations)

    assert Settings().ratelimit_enabled and Settings().ratelimit_storage_uri == "memory://"
    assert Settings().trusted_proxies == 0
    assert limit.amount >= 30  # a room of people behind one address, a few mistakes each
    assert limit.amount / limit.get_expiry() <= 1 / 5  # a script: one try per 5 s at most


def test_the_limit_settings_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("RATELIMIT_REGISTRATIONS", "7 per hour")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", REDIS_URL)
    monkeypatch.setenv("TRUSTED_PROXIES", "2")

    settings = Settings()

    assert (settings.ratelimit_enabled, settings.ratelimit_registrations) == (False, "7 per hour")
    assert (settings.ratelimit_storage_uri, settings.trusted_proxies) == (REDIS_URL, 2)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("RATELIMIT_REGISTRATIONS", "a lot"), ("RATELIMIT_STORAGE_URI", "mongodb://db")],
)
def test_a_limit_setting_that_cannot_work_stops_start_up_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str, value: str
) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigurationError, match=f"{variable}: "):
        create_app()


def test_an_ipv6_host_shares_one_bucket_across_its_64_but_not_with_its_neighbours() -> None:
    one = client_key(b"secret", "2001:db8:1:2::10")

    assert client_key(b"secret", "2001:db8:1:2:ffff::1") == one
    assert client_key(b"secret", "2001:db8:1:3::10") != one
    assert client_key(b"secret", "::ffff:203.0.113.77") == client_key(b"secret", "203.0.113.77")


@pytest.mark.parametrize(
    ("spelling", "address"),
    [
        ("198.51.100.1:4444", "198.51.100.1"),
        ("198.051.100.001", "198.51.100.1"),
        ("198.051.100.001:80", "198.51.100.1"),
        (" 198.51.100.1 ", "198.51.100.1"),
        ("[2001:db8::5]", "2001:db8::5"),
        ("[2001:db8::5]:443", "2001:db8::5"),
        ("2001:DB8:0:0::5", "2001:db8::5"),
        ("fe80::1%eth0", "fe80::1"),
        ("[::ffff:198.51.100.1]:8080", "198.51.100.1"),
    ],
)
def test_an_address_written_another_way_is_the_same_client(spelling: str, address: str) -> None:
    assert client_key(b"secret", spelling) == client_key(b"secret", address)


def test_behind_a_trusted_proxy_a_port_brackets_or_leading_zeros_give_no_fresh_bucket(
    make_app: AppFactory, storage_uri: str
) -> None:
    app = make_app(
        ratelimit_registrations="1 per minute", ratelimit_storage_uri=storage_uri, trusted_proxies=1
    )
    client = app.test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.1"}

    def post(i: int, forwarded_for: str) -> int:
        headers = {"X-Forwarded-For": forwarded_for}
        return client.post(API, json=person(i), headers=headers, environ_base=proxy).status_code

    four = [post(i, f) for i, f in enumerate(["198.51.100.1", "198.51.100.1:4444"])]
    four += [post(2, "198.051.100.001")]
    six = [post(3, "[2001:db8::5]"), post(4, "2001:db8::5"), post(5, "[2001:db8::5]:443")]

    assert four == [201, 429, 429]
    assert six == [201, 429, 429]


def test_the_key_prefix_keeps_two_services_sharing_one_redis_apart(
    make_app: AppFactory, secret: str
) -> None:
    reason = redis_unavailable()
    if reason:
        pytest.skip(reason)
    ours = make_app(ratelimit_storage_uri=REDIS_URL, ratelimit_registrations="1 per minute")
    theirs = make_app(
        ratelimit_storage_uri=REDIS_URL,
        ratelimit_registrations="1 per minute",
        ratelimit_key_prefix=f"{REDIS_KEY_PREFIX}-other",
    )
    try:
        assert ours.test_client().post(API, json=person(0)).status_code == 201
        # The same client address and secret: only the prefix tells the buckets apart.
        assert theirs.test_client().post(API, json=person(1)).status_code == 201
        assert ours.test_client().post(API, json=person(2)).status_code == 429
        assert {key.split("/")[1] for key in redis_keys(secret)} == {
            REDIS_KEY_PREFIX,
            f"{REDIS_KEY_PREFIX}-other",
        }
    finally:
        for key in redis_client().scan_iter(OUR_KEYS):
            redis_client().delete(key)


@contextmanager
def _removing_keys(secret: str) -> Iterator[None]:
    try:
        yield
    finally:
        for key in redis_keys(secret):
            redis_client().delete(key)


def test_a_redis_outage_is_logged_once_each_way_and_healthz_says_so(
    make_app: AppFactory, secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    reason = redis_unavailable()
    if reason:
        pytest.skip(reason)
    with proxy_to(REDIS_URL) as proxy, _removing_keys(secret):
        app = make_app(ratelimit_storage_uri=proxy.url_for(REDIS_URL))
        client = app.test_client()
        api = f"/api/events/{OPEN}/registrations"
        with caplog.at_level(logging.INFO):
            assert client.post(api, json=person(0)).status_code == 201
            assert client.get("/healthz").get_json()["ratelimit"] == "ok"
            proxy.down()
            during = [client.post(api, json=person(i)).status_code for i in range(1, 4)]
            health = client.get("/healthz").get_json()
            proxy.forward()
            deadline = time.monotonic() + 30
            while "answers again" not in caplog.text:  # checked again at growing intervals
                assert time.monotonic() < deadline, caplog.text
                time.sleep(0.5)
                client.post(api, json=valid_payload(email="x@example.pl"))
            after = client.get("/healthz").get_json()

    assert during == [201, 201, 201]  # a Redis outage never stops registrations
    assert health["ratelimit"] == "unavailable" and health["status"] == "degraded"
    warnings = [r for r in caplog.records if r.getMessage().startswith("rate limits:")]
    assert [r.levelno for r in warnings] == [logging.WARNING, logging.WARNING]
    assert "does not answer" in warnings[0].getMessage()
    assert "answers again" in warnings[1].getMessage()
    assert not [r for r in caplog.records if r.exc_info]
    assert after["ratelimit"] == "ok"


def test_with_the_limits_off_a_request_is_not_even_looked_at(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(
        ratelimit_enabled=False, ratelimit_storage_uri=f"redis://127.0.0.1:{free_port()}/0"
    )
    checked: list[object] = []
    limiter = app.extensions[limits.EXTENSION_KEY]
    monkeypatch.setattr(limiter, "_check_request_limit", lambda *a, **k: checked.append(a))

    response = app.test_client().post(API, json=person(0))

    assert response.status_code == 201
    assert checked == []  # Flask-Limiter's decorator sorts a request's limits even when off
    assert "RATELIMIT_STORAGE_URI" not in caplog.text
