"""A lease row: one holder at a time across processes (gunicorn workers, cron, a second host)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from store.db import Store
from store.models import Lease


def acquire(store: Store, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease `name` for `holder` until `now + ttl`; False if someone holds it."""
    try:
        with store.transaction() as session:
            lease = session.get(Lease, name, with_for_update=True)
            if lease is None:
                session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
                return True
            if lease.holder != holder and lease.expires_at > now:
                return False
            lease.holder = holder
            lease.expires_at = now + ttl
            return True
    except IntegrityError:  # another process inserted the first lease row at the same moment
        return False


def release(store: Store, name: str, holder: str) -> None:
    with store.transaction() as session:
        session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))
