"""URL rules of the certificates' pages, and the `certificates` command."""

from __future__ import annotations

from typing import Any

import click
from flask import Blueprint, Flask
from flask.cli import with_appcontext

from backoffice.access import current_staff
from certificates import views
from certificates.issue import VERIFY_RULE, TooEarly, make_certificates, min_days
from config.organisation import unfilled_placeholders
from config.services import services
from forms.blueprint import MANAGE_RULE
from registrations.history import COMMAND
from store.commands import needs_current_schema

bp = Blueprint("certificates", __name__, template_folder="templates")


@bp.context_processor
def _signed_in() -> dict[str, Any]:
    staff = current_staff()
    return {
        "staff": staff,
        "unfilled": unfilled_placeholders(services().organisation) if staff else [],
    }


@bp.app_context_processor
def _own_certificate() -> dict[str, Any]:
    """The private page offers the certificate's PDF once one is issued."""
    return {"own_certificate": own_certificate}


def own_certificate(registration_id: str) -> str | None:
    """The number of the registration's valid certificate, or None."""
    from certificates.models import Certificate

    with services().store.reading() as session:
        found = session.get(Certificate, registration_id)
        return found.label if found is not None and found.revoked_at is None else None


bp.add_url_rule(VERIFY_RULE, view_func=views.verification)
bp.add_url_rule(f"{MANAGE_RULE}/zaswiadczenie.pdf", view_func=views.own_pdf)
bp.add_url_rule(
    "/obsluga/wydarzenia/<slug>/zaswiadczenia",
    view_func=views.staff_page,
    methods=["GET", "POST"],
)
bp.add_url_rule(
    "/obsluga/wydarzenia/<slug>/zaswiadczenia/<registration_id>.pdf", view_func=views.staff_pdf
)


@click.command("certificates")
@with_appcontext
@click.option("--event", "slug", required=True, help="The event's slug.")
@click.option("--send", is_flag=True, help="Number and send those not sent yet (each once).")
@needs_current_schema
def certificates_command(slug: str, send: bool) -> None:
    """List who qualifies for a certificate of participation; with --send, send them."""
    svc = services()
    entry = svc.catalogue.current().entry(slug)
    if entry is None:
        raise click.BadParameter(f"no event {slug!r}", param_hint="--event")
    event = entry.event
    certificates = make_certificates(svc)
    if send:
        try:
            sent = certificates.send(event, svc.now(), COMMAND)
        except TooEarly as early:
            raise click.ClickException(str(early)) from None
        click.echo(f"sent: {len(sent)}")
    needed = min_days(event)
    listed = list(certificates.listed(event))
    for found in listed:
        c = found.certificate
        state = (
            f"nr {c.label}" + (" (unieważnione)" if c.revoked_at else "")
            if c
            else ("do wysłania" if found.qualifies else "bez prawa do zaświadczenia")
        )
        click.echo(
            f"{found.registration.id}\t{found.registration.full_name}\t"
            f"{found.days_present}/{needed}\t{state}"
        )
    qualifying = sum(found.qualifies for found in listed)
    issued = sum(found.certificate is not None for found in listed)
    click.echo(  # a line, also when the list is empty (before anyone was present)
        f"{qualifying} of {len(listed)} listed qualify (present on at least {needed} day(s)); "
        f"{issued} certificate(s) issued"
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(certificates_command)
