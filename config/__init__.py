"""Configuration: settings from the environment and one event file per event."""
