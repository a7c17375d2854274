"""Under gunicorn with 4 workers, as deployed: a save in the staff pages is in force at the next
request of every worker, without a restart (the waiting list moves when capacity is raised)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from tests.conftest import flask_process, gunicorn, valid_payload
from tests.staff_support import COORDINATOR, event_form

pytestmark = pytest.mark.slow


def csrf_of(session: requests.Session, url: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', session.get(url, timeout=30).text)
    assert found is not None, url
    return found.group(1)


def test_raising_capacity_under_four_workers_moves_the_waiting_list_without_a_restart(
    tmp_path: Path, events_dir: Path, database_url: str
) -> None:
    env = {
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "EVENTS_DIR": str(events_dir),
        "STAFF_EMAILS": COORDINATOR,
        "RATELIMIT_ENABLED": "false",
    }
    with gunicorn(env, workers=4) as base, requests.Session() as office:
        command = flask_process("staff", "link", "--email", COORDINATOR, env=env)
        output = command.communicate(timeout=60)[0].decode()
        assert command.returncode == 0, output
        link = base + "/obsluga/logowanie/" + output.split("/obsluga/logowanie/")[1].split()[0]
        signed = office.post(link, data={"csrf_token": csrf_of(office, link)}, timeout=30)
        assert signed.url == f"{base}/obsluga/"

        form = event_form(capacity="2", title="Warsztaty w czterech procesach")
        form["csrf_token"] = csrf_of(office, f"{base}/obsluga/wydarzenia/nowe")
        created = office.post(f"{base}/obsluga/wydarzenia/nowe", data=form, timeout=30)
        slug = created.url.rstrip("/").rsplit("/", 1)[1]
        token = csrf_of(office, created.url)
        office.post(
            f"{base}/obsluga/wydarzenia/{slug}/publikacja", data={"csrf_token": token}, timeout=30
        )
        links = []
        for n in range(4):  # whichever workers take them: 2 seats, 2 waiting
            payload = valid_payload(email=f"w{n}@example.pl", enterprise_name=f"Firma {n}")
            answer = requests.post(
                f"{base}/api/events/{slug}/registrations", json=payload, timeout=30
            )
            assert answer.status_code == 201
            links.append(answer.json()["manage_url"].split("/zgloszenie/")[1])
        edit = f"{base}/obsluga/wydarzenia/{slug}/edycja"
        page = office.get(edit, timeout=30).text
        version = re.search(r'name="version" value="(\d+)"', page)
        assert version is not None
        saved = office.post(
            edit,
            data={
                **form,
                "capacity": "4",
                "title": "Warsztaty: cztery miejsca",
                "version": version.group(1),
                "csrf_token": csrf_of(office, edit),
                "powiadom": "nie",
            },
            timeout=30,
        )
        assert saved.status_code == 200 and saved.url == f"{base}/obsluga/wydarzenia/{slug}/"

        statuses = {
            requests.get(f"{base}/api/registrations/{token}", timeout=30).json()["status"]
            for token in links
            for _ in range(3)  # several answers each, from whichever worker
        }
        titles = {
            "Warsztaty: cztery miejsca"
            in requests.get(f"{base}/wydarzenia/{slug}/", timeout=30).text
            for _ in range(16)
        }
        late = requests.post(
            f"{base}/api/events/{slug}/registrations",
            json=valid_payload(email="piata@example.pl", enterprise_name="Firma 5"),
            timeout=30,
        )

    assert statuses == {"confirmed"}
    assert titles == {True}
    assert late.json()["status"] == "waitlisted"
