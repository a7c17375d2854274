"""The durable store: engine, transactions and the bookkeeping beside the domain's tables."""

from store.db import Store

__all__ = ["Store"]
