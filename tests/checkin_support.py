"""Helpers of the check-in and certificate tests: participants of the seed event, their codes."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from checkin.codes import codes_for
from config.services import services
from registrations.models import Registration
from tests.conftest import KLASTER, valid_payload

PEOPLE = [("Anna", "Nowak"), ("Łukasz", "Żak"), ("Zofia", "Ćwik")]


def register(app: Flask, n: int, first: str, last: str, slug: str = KLASTER) -> str:
    """A registration through the API; its ID."""
    payload = valid_payload(
        email=f"p{n}@example.pl",
        first_name=first,
        last_name=last,
        enterprise_name=f"Spółdzielnia Socjalna {n}",
    )
    response = app.test_client().post(f"/api/events/{slug}/registrations", json=payload)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def code_of(app: Flask, registration_id: str) -> str:
    svc = services(app)
    with svc.store.transaction() as session:
        registration = session.scalar(
            select(Registration).where(Registration.id == registration_id)
        )
        assert registration is not None
        return codes_for(session, [registration], svc.now())[registration_id]
