"""The organisation file: the announcement's values shipped, read at start-up, mistakes named."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import create_app
from config.organisation import load_organisation
from config.settings import DEFAULT_ORGANISATION_FILE, ConfigurationError, Settings
from registrations.powiaty import POWIATY


def test_the_shipped_organisation_is_owes_zielona_gora_of_the_announcement() -> None:
    organisation = load_organisation(DEFAULT_ORGANISATION_FILE)

    assert organisation.short_name == "OWES Zielona Góra"
    assert organisation.timezone == "Europe/Warsaw"
    assert {POWIATY[code].label for code in organisation.eligible_powiaty} == {
        "miasto Zielona Góra",
        "powiat krośnieński",
        "powiat słubicki",
        "powiat sulęciński",
        "powiat wschowski",
        "powiat zielonogórski",
        "powiat żarski",
    }
    assert (organisation.contact.name, organisation.contact.phone) == (
        "Adam Szulczewski",
        "533 316 283",
    )
    assert organisation.contact.email == "a.szulczewski@fundacjacp.org"


def test_the_app_reads_the_organisation_at_start_up(settings: Settings) -> None:
    app = create_app(settings)
    try:
        assert app.extensions["owes"].organisation.short_name == "OWES Zielona Góra"
    finally:
        app.extensions["owes"].store.dispose()


def test_a_broken_organisation_file_stops_start_up_naming_file_and_key(
    settings: Settings, tmp_path: Path
) -> None:
    broken = tmp_path / "organisation.toml"
    source = DEFAULT_ORGANISATION_FILE.read_text(encoding="utf-8")
    broken.write_text(source.replace('"0862"]', '"9999"]'), encoding="utf-8")

    with pytest.raises(ConfigurationError) as error:
        create_app(settings.model_copy(update={"organisation_file": broken}))

    assert str(broken) in str(error.value)
    assert "eligible_powiaty.6" in str(error.value) and "9999" in str(error.value)


def test_a_missing_organisation_file_stops_start_up_naming_it(
    settings: Settings, tmp_path: Path
) -> None:
    missing = tmp_path / "nie-ma.toml"

    with pytest.raises(ConfigurationError, match="cannot read the organisation file"):
        create_app(settings.model_copy(update={"organisation_file": missing}))
