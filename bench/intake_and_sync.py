"""Benchmark: registrations per second through the JSON API, and rows per second synced.

Run on demand: `.venv/bin/python bench/intake_and_sync.py [--n 500] [--database-url URL]`.
Prints one line per measurement; results are written down in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from sqlalchemy import text  # noqa: E402

from app import create_app  # noqa: E402
from config.settings import Settings  # noqa: E402
from sheets.factory import make_syncer  # noqa: E402
from sheets_emulator import EmulatorServer  # noqa: E402
from tests.conftest import valid_payload, write_event  # noqa: E402


def run(n: int, database_url: str | None, emulator: EmulatorServer | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "events"
        write_event(
            folder,
            "bench",
            capacity=n,
            starts_on="2099-06-01",
            ends_on="2099-06-02",
            registration_deadline="2099-05-20",
        )
        google = {}
        if emulator is not None:
            google = {
                "sheets_emulator_host": emulator.host_port,
                "sheets_spreadsheet_id": emulator.create_spreadsheet("bench"),
            }
        settings = Settings(
            instance_path=Path(tmp) / "instance",
            events_dir=folder,
            database_url=database_url,
            run_worker=False,
            secret_key="bench",
            **google,
        )  # type: ignore[arg-type]
        app = create_app(settings, clock=lambda: datetime.now(UTC))
        client = app.test_client()
        start = time.perf_counter()
        for i in range(n):
            response = client.post(
                "/api/events/bench/registrations", json=valid_payload(email=f"b{i}@example.pl")
            )
            assert response.status_code == 201
        intake = time.perf_counter() - start
        services = app.extensions["owes"]
        syncer = make_syncer(services, logging.getLogger("bench"))
        start = time.perf_counter()
        assert syncer.sync_event(services.events["bench"])
        synced = time.perf_counter() - start
        sink = type(services.sink).__name__
        store = "postgresql" if database_url else "sqlite"
        print(
            f"{store:10} {sink:18} intake {n / intake:7.0f} reg/s ({intake / n * 1000:.2f} ms each)"
            f"   sync {n / synced:7.0f} rows/s ({synced:.2f} s for {n})"
        )
        getattr(services.sink, "close", lambda: None)()
        services.store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument(
        "--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from registrations.models import Base
    from store import Store

    pg = Store(args.database_url)

    def empty_postgres() -> None:  # the app creates the schema again at start-up
        Base.metadata.drop_all(pg.engine)
        with pg.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))

    with EmulatorServer() as emulator:
        for url in (None, args.database_url):
            for emu in (None, emulator):
                if url:
                    empty_postgres()
                run(args.n, url, emu)
    empty_postgres()
    pg.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the benchmark process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
