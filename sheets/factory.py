"""Which sink this deployment uses, and the syncer over it, from the settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from config.services import Services
from config.settings import Settings
from sheets.local import LocalWorkbookSink
from sheets.sink import Sink
from sheets.syncer import Syncer


def make_sink(settings: Settings, instance: Path) -> Sink:
    """Google Sheets when any Google setting is given, else the local workbook in `instance`."""
    if settings.google_configured:
        from sheets.google import GoogleSheetsSink

        return GoogleSheetsSink.from_settings(settings)
    return LocalWorkbookSink(instance)


def make_syncer(
    svc: Services, logger: logging.Logger, still_leader: Callable[[], bool] = lambda: True
) -> Syncer:
    settings = svc.settings
    return Syncer(
        svc.store,
        svc.sink,
        svc.clock,
        logger,
        batch_size=settings.sync_batch_size,
        max_attempts=settings.sheets_max_attempts,
        backoff_max_seconds=settings.sheets_backoff_max_seconds,
        in_flight_settle_seconds=settings.sheets_in_flight_settle_seconds,
        sheet_check_seconds=settings.sheets_check_interval_seconds,
        pull_seconds=settings.sheets_pull_interval_seconds,
        registrations=svc.registrations,
        still_leader=still_leader,
        grace=svc.grace,
    )
