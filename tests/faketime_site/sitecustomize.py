"""Loaded (via PYTHONPATH) by the processes the faketime tests start under libfaketime.

With only the wall clock faked (`FAKETIME_DONT_FAKE_MONOTONIC=1`), `time.sleep` fails with
EINVAL (its absolute monotonic deadline reaches libfaketime's faked clock_nanosleep); a timed
wait on an event (a monotonic timeout) sleeps as asked, so `time.sleep` falls back to it.
"""

import threading
import time
from typing import SupportsIndex

_sleep = time.sleep


def _sleep_or_wait(seconds: float | SupportsIndex) -> None:
    try:
        _sleep(seconds)
    except OSError:
        threading.Event().wait(float(seconds))


time.sleep = _sleep_or_wait
