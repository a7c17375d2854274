"""Everything about spreadsheets: the sink interface, its local and Google implementations, the syncer."""
