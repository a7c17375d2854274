"""Everything about spreadsheets: the sink interface, local and Google sinks, the syncer."""
