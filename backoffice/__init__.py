"""The staff pages (/obsluga/): sign-in by e-mailed link, sessions, roles, the events made and
edited in the pages, the lists to download, the history of staff actions.

Thin views over services: the catalogue and its editor (`catalogue/`), the domain's operations
(`registrations/`), the lists of `staff/`.
"""

from __future__ import annotations

from flask import Flask

from backoffice.access import EXTENSION_KEY, Backoffice, keep_private
from backoffice.roles import StaffLists
from backoffice.signin import SignInLinks, StaffSessions
from catalogue.editing import EventEditor
from config.services import Services

__all__ = ["Backoffice", "init_app", "make"]


def make(svc: Services, secret: str) -> Backoffice:
    """The staff side's services over the application's."""
    settings = svc.settings
    lists = StaffLists.of(svc.organisation, settings)
    return Backoffice(
        lists=lists,
        links=SignInLinks(
            svc.store,
            secret,
            lists,
            link_minutes=settings.staff_link_minutes,
            base_url=settings.public_base_url,
            sender=settings.mail_from,
            organisation_name=svc.organisation.name,
        ),
        sessions=StaffSessions(svc.store, lists, hours=settings.staff_session_hours),
        editor=EventEditor(svc.store, svc.catalogue, svc.registrations, svc.sink.target),
        secure_cookies=settings.secure_cookies,
    )


def init_app(app: Flask, office: Backoffice) -> None:
    """Keep the services, register the pages (before the rate limits wrap their views) and
    the command."""
    from backoffice import commands
    from backoffice.blueprint import bp

    app.extensions[EXTENSION_KEY] = office
    app.register_blueprint(bp)
    app.after_request(keep_private)
    commands.init_app(app)
