"""The durable store: every accepted registration is committed here before anyone is answered."""

from store.db import Store
from store.models import Base, EventState, Registration, SyncStatus

__all__ = ["Base", "EventState", "Registration", "Store", "SyncStatus"]
