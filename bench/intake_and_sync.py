"""Benchmark: registrations per second through the JSON API, e-mails sent, rows synced.

Run on demand: `.venv/bin/python bench/intake_and_sync.py [--n 500] [--database-url URL]`.
For each store and sink, in one run: intake through the JSON API (validation, the event lock,
the link token, the outbox row), sending the e-mails (`.eml` files), the first sync (appends:
the reference), a sync of every row changed in place, and a round that applies staff decisions
on a tenth of the rows; the last two are also given as ratios to the first sync. Results are
written down in bench/RESULTS.md.
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
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1]))

from sqlalchemy import text  # noqa: E402

from app import create_app  # noqa: E402
from config.settings import Settings  # noqa: E402
from sheets.factory import make_syncer  # noqa: E402
from sheets.rows import DECISION_HEADER  # noqa: E402
from sheets.sink import CellRun  # noqa: E402
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
        google: dict[str, Any] = {}
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
            secret_key="bench",  # type: ignore[arg-type]  # pydantic makes it a SecretStr
            log_level="WARNING",
            ratelimit_enabled=False,  # one client posting n times: not what is measured
            **google,
        )
        app = create_app(settings, clock=lambda: datetime.now(UTC))
        client = app.test_client()
        links: list[str] = []
        start = time.perf_counter()
        for i in range(n):
            response = client.post(
                "/api/events/bench/registrations", json=valid_payload(email=f"b{i}@example.pl")
            )
            assert response.status_code == 201
            links.append(response.get_json()["manage_url"].rsplit("/", 1)[1])
        intake = time.perf_counter() - start
        services = app.extensions["owes"]
        event = services.events["bench"]
        start = time.perf_counter()
        sender = services.mail_worker.jobs[0]
        while sender():  # each call sends up to a batch
            pass
        mailed = time.perf_counter() - start
        syncer = make_syncer(services, logging.getLogger("bench"))
        start = time.perf_counter()
        assert syncer.sync_event(event)
        appended = time.perf_counter() - start
        for token in links:
            client.patch(f"/api/registrations/{token}", json={"diet": "vegan"})
        start = time.perf_counter()
        assert syncer.sync_event(event)
        updated = time.perf_counter() - start
        decide_on_a_tenth(services, event, syncer)
        start = time.perf_counter()
        assert syncer.sync_event(event)
        decided = time.perf_counter() - start
        sink = type(services.sink).__name__
        store = "postgresql" if database_url else "sqlite"
        print(
            f"{store:10} {sink:18} intake {n / intake:5.0f} reg/s ({intake / n * 1000:.1f} ms)"
            f"  mail {n / mailed:5.0f} msg/s  first sync {appended:.2f} s (1.00)"
            f"  in place {updated:.2f} s ({updated / appended:.2f})"
            f"  decisions {decided:.2f} s ({decided / appended:.2f})"
        )
        getattr(services.sink, "close", lambda: None)()
        services.store.dispose()


def decide_on_a_tenth(services: Any, event: Any, syncer: Any) -> None:
    """Staff type `rezygnacja` in every tenth row, as in the sheet; the next round applies it."""
    sheet = services.sink.find(event)
    table = sheet.read()
    header = table[0]
    column = header.index(DECISION_HEADER)
    runs = [CellRun(row, column, ["rezygnacja"]) for row in range(1, len(table), 10)]
    sheet.write(runs)
    syncer.pull_seconds = 0.0


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
