"""Outgoing e-mail: SMTP when configured, otherwise `.eml` files in the instance folder."""

from mail.outbox import FileOutbox, Outbox, SmtpOutbox, compose, make_outbox

__all__ = ["FileOutbox", "Outbox", "SmtpOutbox", "compose", "make_outbox"]
