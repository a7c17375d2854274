"""Two test runs on one host never meet: each has its own PostgreSQL database and Redis prefix."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, make_url, text

from tests.conftest import (
    ADMIN_POSTGRES_URL,
    POSTGRES_URL,
    PROJECT,
    REDIS_KEY_PREFIX,
    postgres_available,
)


def test_this_run_works_in_a_database_of_its_own_beside_the_shared_one() -> None:
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    shared, own = make_url(ADMIN_POSTGRES_URL).database, make_url(POSTGRES_URL).database
    assert own is not None and own != shared
    assert own.startswith(f"{shared}_r{os.getpid()}x")
    engine = create_engine(POSTGRES_URL)
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT current_database()")) == own
    finally:
        engine.dispose()


def test_another_run_gets_another_database_and_prefix_and_drops_its_database() -> None:
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    probe = (
        "from tests import conftest as c; print(c.POSTGRES_URL); print(c.REDIS_KEY_PREFIX); "
        "assert c.postgres_available() is None; c.pytest_sessionfinish(None)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT, capture_output=True, text=True, check=True
    )
    other_url, other_prefix = done.stdout.split()
    assert other_url != POSTGRES_URL and other_prefix != REDIS_KEY_PREFIX
    engine = create_engine(ADMIN_POSTGRES_URL)
    try:
        with engine.connect() as connection:
            left = connection.scalar(
                text("SELECT count(*) FROM pg_database WHERE datname = :name"),
                {"name": make_url(other_url).database},
            )
    finally:
        engine.dispose()
    assert left == 0  # the other run dropped what it created at its end
