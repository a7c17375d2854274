"""One small mail module: compose a Polish message (text + HTML) and send or keep it."""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

from config.settings import Settings


def compose(
    *,
    sender: str,
    to: list[str],
    subject: str,
    text: str,
    html: str,
    reply_to: str | None = None,
) -> EmailMessage:
    """A multipart/alternative message; headers with Polish letters are encoded properly."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="owes-rejestracja")
    if reply_to:
        message["Reply-To"] = reply_to
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


class Outbox(Protocol):
    def send(self, message: EmailMessage) -> str:
        """Deliver the message; returns where it went, for the log."""
        ...


class SmtpOutbox:
    """Sends through the configured SMTP server (STARTTLS, SSL or plain on a trusted host)."""

    def __init__(self, settings: Settings, timeout: float = 30.0) -> None:
        assert settings.smtp_host is not None
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.security = settings.smtp_security
        self.user = settings.smtp_user
        self.password = settings.smtp_password
        self.timeout = timeout

    def send(self, message: EmailMessage) -> str:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.security == "ssl":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.user and self.password is not None:
                smtp.login(self.user, self.password.get_secret_value())
            smtp.send_message(message)
        return f"smtp://{self.host}:{self.port}"


class FileOutbox:
    """The embedded default: each message becomes an `.eml` file, so nothing is dropped."""

    def __init__(self, folder: Path, logger: logging.Logger) -> None:
        self.folder = folder
        self.logger = logger

    def send(self, message: EmailMessage) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.folder / f"{stamp}.eml"
        path.write_bytes(bytes(message))
        self.logger.info("no SMTP configured: e-mail %r kept in %s", message["Subject"], path)
        return str(path)


def make_outbox(settings: Settings, instance: Path, logger: logging.Logger) -> Outbox:
    if settings.smtp_host:
        return SmtpOutbox(settings)
    return FileOutbox(instance / "mail", logger)
