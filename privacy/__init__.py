"""RODO: a person's own data, erasure on request and retention (privacy/commands.py)."""
