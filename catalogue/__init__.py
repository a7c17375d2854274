"""The events in force: event files and events made in the staff pages, read and changed."""
