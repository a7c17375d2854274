"""Event files: the seed event as announced, errors naming file and key, DST-safe deadlines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from app import create_app
from config.events import EventFileError, load_events
from config.settings import DEFAULT_EVENTS_DIR, ConfigurationError, Settings
from registrations.powiaty import POWIATY
from registrations.window import RegistrationState, Window
from tests.conftest import KLASTER, write_event


def test_the_seed_event_is_the_announced_one() -> None:
    event = load_events(DEFAULT_EVENTS_DIR)[KLASTER]

    assert (event.starts_on.isoformat(), event.ends_on.isoformat()) == ("2018-08-27", "2018-08-28")
    assert event.registration_deadline.isoformat() == "2018-08-22"
    labels = {POWIATY[code].label for code in event.eligible_powiaty}
    assert labels == {
        "miasto Zielona Góra",
        "powiat krośnieński",
        "powiat słubicki",
        "powiat sulęciński",
        "powiat wschowski",
        "powiat zielonogórski",
        "powiat żarski",
    }
    assert event.contact.name == "Adam Szulczewski"
    assert "nocleg w Lubniewicach" in event.provided
    assert "ASSUMPTION" in (DEFAULT_EVENTS_DIR / f"{KLASTER}.toml").read_text()


def test_the_seed_event_is_closed_today_and_the_example_is_open() -> None:
    events = load_events(DEFAULT_EVENTS_DIR)
    today = datetime(2026, 11, 27, 12, tzinfo=UTC)

    assert Window(events[KLASTER], today).state is RegistrationState.CLOSED
    assert Window(events["przyklad-otwarte"], today).state is RegistrationState.OPEN
    assert events["przyklad-otwarte"].example


@pytest.mark.parametrize(
    ("deadline", "last_second", "first_refused"),
    [
        ("2018-08-22", "2018-08-22T21:59:59", "2018-08-22T22:00:00"),  # summer time, UTC+2
        ("2018-12-10", "2018-12-10T22:59:59", "2018-12-10T23:00:00"),  # winter time, UTC+1
        ("2018-10-27", "2018-10-27T21:59:59", "2018-10-27T22:00:00"),  # the night clocks go back
        ("2019-03-30", "2019-03-30T22:59:59", "2019-03-30T23:00:00"),  # the night they go forward
    ],
)
def test_the_deadline_is_the_end_of_the_local_day_across_dst(
    tmp_path: Path, deadline: str, last_second: str, first_refused: str
) -> None:
    write_event(
        tmp_path, "x", registration_deadline=deadline, starts_on="2019-12-30", ends_on="2019-12-31"
    )
    event = load_events(tmp_path)["x"]

    def at(moment: str) -> RegistrationState:
        return Window(event, datetime.fromisoformat(moment).replace(tzinfo=UTC)).state

    assert at(last_second) is RegistrationState.OPEN
    assert at(first_refused) is RegistrationState.CLOSED


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"capacity": "0"}, "capacity"),
        ({"timezone": '"Europe/Zielona"'}, "timezone"),
        ({"eligible_powiaty": '["0899"]'}, "eligible_powiaty.0"),
        ({"starts_on": '"jutro"'}, "starts_on"),
        ({"colour": '"red"'}, "colour"),
        ({"registration_deadline": "2018-09-30"}, "registration_deadline is after the event"),
    ],
)
def test_a_broken_event_file_stops_start_up_naming_file_and_key(
    tmp_path: Path, change: dict[str, str], named: str
) -> None:
    path = write_event(tmp_path / "events", "zepsute", **change)
    settings = Settings(
        instance_path=tmp_path / "i", events_dir=tmp_path / "events", run_worker=False
    )

    with pytest.raises(ConfigurationError) as error:  # exits start-up without a traceback
        create_app(settings)

    assert str(path) in str(error.value)
    assert named in str(error.value)


def test_an_events_folder_that_does_not_exist_is_explained(tmp_path: Path) -> None:
    with pytest.raises(EventFileError, match="events folder does not exist"):
        load_events(tmp_path / "nie-ma")


def test_invalid_toml_is_explained(tmp_path: Path) -> None:
    (tmp_path / "zle.toml").write_text("title = \n", encoding="utf-8")

    with pytest.raises(EventFileError, match="zle.toml: cannot read event file"):
        load_events(tmp_path)


def test_a_settings_mistake_names_the_variable_and_echoes_no_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SMTP_PASSWORD", "hunter2")
    monkeypatch.setenv("SECRET_KEY", "topsecretkey")
    monkeypatch.setenv("WORKER_LEASE_SECONDS", "10")

    with pytest.raises(ConfigurationError) as error:
        create_app()

    message = str(error.value)
    assert "WORKER_LEASE_SECONDS (10) must be more than 2 × SHEETS_TIMEOUT_SECONDS (20)" in message
    assert "hunter2" not in message and "topsecret" not in message


def test_an_invalid_setting_value_is_named_by_its_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SMTP_SECURITY", "tls")

    with pytest.raises(ConfigurationError, match="SMTP_SECURITY: String should match"):
        create_app()


def test_a_lease_shorter_than_the_wait_for_a_lost_write_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"must be more than SHEETS_IN_FLIGHT_SETTLE"):
        Settings(worker_lease_seconds=45, sheets_in_flight_settle_seconds=45)
