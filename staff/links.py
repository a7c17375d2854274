"""Where the staff pages (`/obsluga/`) show an event or a registration: the links e-mails to
staff carry. One place for the paths, so the staff pages' routes and the e-mails agree."""

from __future__ import annotations

from urllib.parse import quote

STAFF_PREFIX = "/obsluga"


def staff_registration_url(base_url: str, registration_id: str) -> str:
    """The staff page of a registration: `…/obsluga/zgloszenia/R-7K3F-9Q2M`."""
    return f"{base_url.rstrip('/')}{STAFF_PREFIX}/zgloszenia/{quote(registration_id)}"


def staff_event_url(base_url: str, slug: str) -> str:
    """The staff page of an event: `…/obsluga/wydarzenia/klaster-2018/`."""
    return f"{base_url.rstrip('/')}{STAFF_PREFIX}/wydarzenia/{quote(slug)}/"
