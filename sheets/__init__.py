"""The staff's spreadsheet: the sink interface, the local and Google sinks, the worksheet's
layout, the syncer that keeps rows in step and carries staff decisions back."""
