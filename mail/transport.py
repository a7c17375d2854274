"""Composing a Polish message (text + HTML) and handing it over: SMTP, or `.eml` files."""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

from config.settings import Settings


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str
    subtype: str
    params: tuple[tuple[str, str], ...] = ()


def compose(
    *,
    sender: str,
    to: list[str],
    subject: str,
    text: str,
    html: str,
    reply_to: str | None = None,
    attachments: tuple[Attachment, ...] = (),
    message_id: str | None = None,
) -> EmailMessage:
    """A multipart/alternative message; headers with Polish letters are encoded properly.

    The Message-ID is fixed here, so a message sent again after a crash is recognisably the
    same message to mail clients.
    """
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id or make_msgid(domain="owes-rejestracja")
    if reply_to:
        message["Reply-To"] = reply_to
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    for attachment in attachments:
        if attachment.maintype == "text":  # UTF-8 declared, or Polish letters arrive mangled
            message.add_attachment(
                attachment.content.decode("utf-8"),
                subtype=attachment.subtype,
                charset="utf-8",
                filename=attachment.filename,
                params=dict(attachment.params),
            )
        else:
            message.add_attachment(
                attachment.content,
                maintype=attachment.maintype,
                subtype=attachment.subtype,
                filename=attachment.filename,
            )
    return message


class Transport(Protocol):
    def send(self, message: EmailMessage) -> str:
        """Deliver the message; returns where it went, for the log."""
        ...


class SmtpTransport:
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


class FileTransport:
    """The embedded default: each message becomes an `.eml` file, so nothing is dropped.

    The file is named after the Message-ID and created only if it does not exist yet, so a
    message handed over twice (a retry after a crash) is written exactly once.
    """

    def __init__(self, folder: Path, logger: logging.Logger) -> None:
        self.folder = folder
        self.logger = logger

    def send(self, message: EmailMessage) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        message_id = str(message["Message-ID"] or make_msgid(domain="owes-rejestracja"))
        path = eml_path(self.folder, message_id)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".mail-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(bytes(message))
            try:
                os.link(tmp, path)  # atomic, and fails if the message was written before
            except FileExistsError:
                return str(path)
        finally:
            os.unlink(tmp)
        self.logger.info("no SMTP configured: e-mail %r kept in %s", message["Subject"], path)
        return str(path)


def eml_path(folder: Path, message_id: str) -> Path:
    """Where `FileTransport` keeps the message with this Message-ID."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", message_id.strip("<>"))[:200]
    return folder / f"{name}.eml"


def mail_folder(instance: Path) -> Path:
    """The folder of `FileTransport`'s messages."""
    return instance / "mail"


def make_transport(settings: Settings, instance: Path, logger: logging.Logger) -> Transport:
    if settings.smtp_host:
        return SmtpTransport(settings)
    return FileTransport(mail_folder(instance), logger)
