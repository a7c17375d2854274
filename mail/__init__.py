"""Outgoing e-mail: composed here, queued in the outbox, sent over SMTP or kept as `.eml` files."""
