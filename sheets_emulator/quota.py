"""Google's per-user write quota: at most N write requests in any rolling minute."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0


class WriteQuota:
    """Counts accepted writes; `limit` None means unlimited. Thread-safe."""

    def __init__(self, limit: int | None = None, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self._clock = clock
        self._accepted: deque[float] = deque()
        self._lock = threading.Lock()
        self.refused = 0  # writes answered 429 since the last reset, for /_emulator/stats

    def try_acquire(self) -> bool:
        """Count one write; False (and not counted) when the minute's quota is used up."""
        with self._lock:
            now = self._clock()
            while self._accepted and now - self._accepted[0] >= WINDOW_SECONDS:
                self._accepted.popleft()
            if self.limit is not None and len(self._accepted) >= self.limit:
                self.refused += 1
                return False
            self._accepted.append(now)
            return True

    def set_limit(self, limit: int | None) -> None:
        with self._lock:
            self.limit = limit
            self._accepted.clear()

    def reset_refused(self) -> None:
        with self._lock:
            self.refused = 0
