"""A message staff wrote in `…/wiadomosci`, as the e-mail one person gets: the placeholders
filled with their data, the text plain and escaped in the HTML part (participants' values too),
Reply-To the event's contact. Composed when sent, like every participant's e-mail."""

from __future__ import annotations

from email.message import EmailMessage

from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from mail.html import document
from mail.transport import compose
from registrations.notices import Notice
from registrations.staff_messages import fill, message_of, values_for
from registrations.validators import ascii_address


def staff_message(
    session: Session,
    notice: Notice,
    *,
    sender: str,
    link: str,
    organisation: str,
    message_id: str | None,
) -> EmailMessage | None:
    """The e-mail; None when the message is gone (erased with its recipients' data)."""
    message = message_of(session, notice.detail)
    if message is None:
        return None
    values = values_for(notice.event, notice.registration, link)
    subject = fill(message.subject, values)
    body = fill(message.body, values)
    paragraphs = [part for part in body.split("\n\n") if part.strip()]
    html = Markup("").join(
        Markup("<p>{}</p>").format(Markup("<br>").join(escape(line) for line in part.split("\n")))
        for part in paragraphs
    )
    html += Markup("<p>{}</p>").format(organisation)
    return compose(
        sender=sender,
        to=[ascii_address(notice.registration.email)],
        subject=subject,
        text=f"{body}\n\n{organisation}\n",
        html=document(subject, str(html)),
        reply_to=str(notice.event.contact.email),
        message_id=message_id,
    )
