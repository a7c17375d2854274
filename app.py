"""The application factory: `flask --app app run`, `gunicorn 'app:create_app()'`."""

from __future__ import annotations

import atexit
import os
import secrets
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import click
from flask import Flask, current_app, request
from flask.cli import FlaskGroup
from flask.typing import ResponseReturnValue
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, InternalServerError

import backoffice
import sheets.commands as sheets_commands
from backoffice import access as staff_access
from backoffice import signin as staff_signin
from catalogue.catalogue import EventCatalogue
from certificates import blueprint as certificate_pages
from checkin import blueprint as checkin_pages
from checkin.absences import make_absence_reports
from config.events import EventFileError, load_events
from config.organisation import (
    Organisation,
    OrganisationFileError,
    load_organisation,
    placeholder_warning,
)
from config.services import EXTENSION_KEY, Clock, Services, services, system_clock
from config.settings import ConfigurationError, Settings, describe_settings_error
from forms import api, formatting, limits, secret_paths, security, views
from forms.blueprint import bp as forms_bp
from forms.blueprint import event_url, manage_url
from forms.body_limit import BoundedBody
from forms.session_cookie import CookieSessionInterface
from jobs import health
from jobs.participation import BeforeEvent
from jobs.worker import Worker
from mail.outbox import OutboxSender
from mail.participants import ParticipantMail
from mail.transport import make_transport
from privacy import commands as privacy_commands
from privacy.retention import make_retention
from registrations.event import Event
from registrations.models import Registration
from registrations.operations import Registrations, StoreUnavailable
from registrations.tokens import LinkTokens
from sheets.factory import make_sink, make_syncer
from sheets.sink import Sink
from staff import commands as staff_commands
from staff import corrections
from staff.closeoff import make_closeoff
from staff.digest import make_digest
from staff.summary import LiveSummary
from store import Store
from store import commands as store_commands
from store.gate import SchemaGate
from store.models import OutboxMessage


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, sink: Sink | None = None
) -> Flask:
    """Build the app; tests hand in settings, a clock and a sink instead of patching."""
    try:
        settings = settings or Settings()
        organisation = load_organisation(settings.organisation_file)
        events = load_events(settings.events_dir, assets=[settings.organisation_file.parent])
    except ValidationError as exc:
        raise ConfigurationError(describe_settings_error(exc)) from None
    except (EventFileError, OrganisationFileError) as exc:
        raise ConfigurationError(str(exc)) from None
    # No app-level static folder: the forms blueprint serves /static/ (style.css).
    app = Flask(__name__, static_folder=None, instance_path=_absolute(settings.instance_path))
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.update(
        SECRET_KEY=_secret_key(settings, instance),
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        WTF_CSRF_TIME_LIMIT=12 * 3600,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
    )
    app.session_interface = CookieSessionInterface()
    app.wsgi_app = BoundedBody(app.wsgi_app, settings.max_body_bytes)  # type: ignore[method-assign]
    app.logger.setLevel(settings.log_level)
    if unfilled := placeholder_warning(organisation, settings.organisation_file):
        app.logger.warning("%s", unfilled)
    secret_paths.init_logging()  # no token in the request logs of flask run or gunicorn
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]

    svc, office = _services(
        settings, organisation, events, instance, app, clock=clock or system_clock, sink=sink
    )
    app.extensions[EXTENSION_KEY] = svc
    if not _built_to_look_up_a_command():
        try:  # the database down or hung: the service starts, and answers 503 until it is back
            svc.gate.open_at_start()
        except BaseException:  # ConfigurationError is a SystemExit
            svc.store.dispose()
            raise
    app.before_request(_until_the_store_answers)
    formatting.init_app(app)
    app.register_blueprint(forms_bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    backoffice.init_app(app, office)
    checkin_pages.init_app(app)  # the check-in pages (issue 20)
    certificate_pages.init_app(app)  # certificates of participation (issue 20)
    # Wraps the blueprints' views: after registering them. A signed-in staff session's POSTs
    # are not limited.
    limits.init_app(app, settings, exempt_when=staff_access.signed_in)
    security.init_app(app, settings)
    store_commands.init_app(app)
    sheets_commands.init_app(app)
    staff_commands.init_app(app)
    corrections.init_app(app)
    privacy_commands.init_app(app)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(StoreUnavailable, _store_unavailable)
    for failure in (DBAPIError, PoolTimeout):  # the database away, from whichever route
        app.register_error_handler(failure, _store_unavailable)
    app.register_error_handler(Exception, _unexpected_error)
    if settings.run_worker:
        _start_worker_on_first_request(app)
    return app


def _services(
    settings: Settings,
    organisation: Organisation,
    events: dict[str, Event],
    instance: Path,
    app: Flask,
    *,
    clock: Clock,
    sink: Sink | None,
) -> tuple[Services, backoffice.Backoffice]:
    """The composition root: store, domain, mail, sheets, staff jobs and pages, wired once."""
    store = Store(
        settings.database_url or f"sqlite:///{instance / 'registrations.sqlite3'}",
        timeout_seconds=settings.database_timeout_seconds,
    )
    tokens = LinkTokens(app.config["SECRET_KEY"])
    catalogue = EventCatalogue(store, events, settings.events_dir)

    def link_for(registration: Registration) -> str:
        return manage_url(
            settings.public_base_url, registration.event_slug, tokens.token(registration)
        )

    mail = ParticipantMail(
        settings.mail_from,
        link_for,
        clock,
        catalogue.live_event,
        organisation=organisation,
        base_url=settings.public_base_url,
        event_url=lambda event: event_url(settings.public_base_url, event.slug),
    )
    svc = Services(
        settings=settings,
        organisation=organisation,
        catalogue=catalogue,
        store=store,
        sink=sink or make_sink(settings, instance),
        clock=clock,
        instance_path=instance,
        registrations=Registrations(store, tokens, mail, events=catalogue),
        link_for=link_for,
    )

    def prepare() -> None:
        """What start-up does with the database, once it answers."""
        store_commands.prepare_or_refuse(svc, app.logger)
        with svc.store.transaction() as session:  # links for registrations older than them
            svc.registrations.tokens.issue_missing(session)

    svc.gate = SchemaGate(prepare, app.logger)
    svc.worker = Worker(
        store,
        [],
        clock,
        app.logger,
        interval_seconds=settings.sync_interval_seconds,
        lease_seconds=settings.worker_lease_seconds,
        round_scope=catalogue.pinned,  # one read of the catalogue's revision per round
        ready=svc.gate.ready,
        # In a burst of registrations the rows are built and written once it pauses for a
        # tenth of a second, or 5 s after it began: the burst's requests are answered first,
        # and its rows go to the sheet in fewer, larger writes. A row at a time is not held.
        settle_seconds=0.1,
        settle_max_seconds=5.0,
    )

    def live() -> list[Event]:
        """The published events in force this round (drafts are never synced, closed off,
        summarised or purged)."""
        return list(svc.events.values())

    syncer = make_syncer(svc, app.logger, still_leader=svc.worker.renew_lease)  # under the lease
    # Capacity may have been raised in an event file since the last start: free seats go to
    # the waiting list on the first round (cancellations and staff decisions promote at once).
    svc.worker.jobs.append(_once(lambda: _promote_all(svc, live())))
    before_event = BeforeEvent(svc, mail, app.logger)  # reminders and offers (issue 19)
    svc.worker.jobs.append(lambda: before_event.run(live()))
    svc.worker.jobs.append(lambda: syncer.sync(live()))
    closeoff = make_closeoff(svc, app.logger)
    summary = LiveSummary(store, svc.sink, clock, app.logger)
    digest = make_digest(svc, app.logger)
    svc.worker.jobs.append(lambda: closeoff.run_due(live()))
    svc.worker.jobs.append(lambda: summary.run(live()))
    svc.worker.jobs.append(lambda: digest.run(live()))
    absences = make_absence_reports(svc, app.logger)  # the morning after each day (issue 20)
    svc.worker.jobs.append(lambda: absences.run(live()))
    svc.worker.jobs.append(lambda: make_retention(svc, app.logger).run_due(live()))
    # Page decisions whose grace time has passed (the sheet's are carried out by its read).
    svc.worker.jobs.append(lambda: svc.grace.carry_out_due(svc.registrations, live(), clock()))
    office = backoffice.make(svc, app.config["SECRET_KEY"])

    def compose(session: Session, row: OutboxMessage) -> EmailMessage | None:
        """A queued message composed when sent: a staff sign-in link, or a participant's."""
        if row.kind == staff_signin.KIND:
            return office.links.compose(session, row)
        return mail.compose(session, row)

    sender = OutboxSender(
        store,
        make_transport(settings, instance, app.logger),
        clock,
        app.logger,
        holder=svc.worker.holder,
        compose=compose,
        # The lost-link page's requests, looked up here and not in the request.
        queue_first=lambda: svc.registrations.send_requested_links(svc.events, now=svc.now()),
    )

    svc.mail_worker = Worker(
        store,
        [sender.send_due],
        clock,
        app.logger,
        interval_seconds=settings.mail_interval_seconds,
        lease_seconds=settings.worker_lease_seconds,
        lease_name=None,
        ready=svc.gate.ready,
        name="mail-sender",
        min_gap_seconds=1.0,  # in a burst of registrations, mail goes out in batches
        settle_seconds=0.5,  # … once the burst has paused for half a second
        settle_max_seconds=10.0,  # … or 10 s after it began, whatever comes first
        round_scope=catalogue.pinned,
    )
    return svc, office


def _promote_all(svc: Services, events: list[Event]) -> None:
    for event in events:
        promoted = svc.registrations.promote(event, now=svc.now())
        if promoted:
            svc.mail_worker.wake()
            svc.worker.logger.info(
                "%d waitlisted registration(s) of %s confirmed: seats were free",
                len(promoted),
                event.slug,
            )


def _once(job: Callable[[], object]) -> Callable[[], None]:
    """A worker job that runs until it first succeeds."""
    done = threading.Event()

    def run() -> None:
        if not done.is_set():
            job()
            done.set()

    return run


def _built_to_look_up_a_command() -> bool:
    """Whether Flask's CLI builds the app only to find one of the app's commands.

    `flask --app app db upgrade` builds the app before it knows which command runs, and `db`
    must work on a database that is behind: then the commands check the schema themselves
    (`store.commands.needs_current_schema`). gunicorn builds the app outside any command,
    `flask run` and `flask shell` inside their own: those are checked here, at once.
    """
    context = click.get_current_context(silent=True)
    return context is not None and isinstance(context.command, FlaskGroup)


def start_worker(app: Flask) -> None:
    """Start this process's background threads (gunicorn.conf.py calls it per worker)."""
    svc = services(app)
    if svc.settings.run_worker:
        for worker in (svc.worker, svc.mail_worker):
            worker.start()
            atexit.register(worker.stop)


def _start_worker_on_first_request(app: Flask) -> None:
    started = threading.Event()
    lock = threading.Lock()

    @app.before_request
    def _start_once() -> None:
        if not started.is_set():
            with lock:
                if not started.is_set():
                    start_worker(app)
                    started.set()


def _absolute(path: Path | None) -> str | None:
    return str(path.resolve()) if path is not None else None


def _secret_key(settings: Settings, instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the instance folder."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    key_file = instance / "secret_key"
    try:  # exclusive create: gunicorn workers starting together agree on one key
        with open(key_file, "x", encoding="utf-8") as new:
            os.chmod(key_file, 0o600)
            new.write(secrets.token_hex(32))
    except FileExistsError:
        pass
    for _ in range(50):  # another worker may be writing it this instant
        key = key_file.read_text(encoding="utf-8").strip()
        if key:
            return key
        time.sleep(0.01)
    raise RuntimeError(f"{key_file} is empty: delete it or set SECRET_KEY")


# What answers while the database has not answered since start: /healthz says so itself, and
# the 503 page needs its style sheet.
WITHOUT_STORE = frozenset({"health.healthz", "forms.static"})


def _until_the_store_answers() -> ResponseReturnValue | None:
    """Until the database has answered since start, every page and API call is the 503 that
    says nothing was stored (the gate logs its attempts; a request does not)."""
    if request.endpoint in WITHOUT_STORE or services().gate.ready():
        return None
    if request.path.startswith("/api/"):
        return api.store_unavailable()
    return views.store_unavailable()


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    return api.http_error(exc) if request.path.startswith("/api/") else views.error_page(exc)


def _store_unavailable(exc: Exception) -> ResponseReturnValue:
    """The database is briefly away: a Polish 503 saying nothing was stored, on every page and
    the API, and the log names the route (no token; the engine hides statement parameters)."""
    route = request.url_rule.rule if request.url_rule is not None else "(no route)"
    current_app.logger.error("store unavailable on %s %s: %s", request.method, route, exc)
    if request.path.startswith("/api/"):
        return api.store_unavailable()
    return views.store_unavailable()


def _unexpected_error(exc: Exception) -> ResponseReturnValue:
    """Log the bug with its traceback; the participant gets a plain 500 page or JSON."""
    # The route's pattern, never the path: a path may carry a private link's token.
    route = request.url_rule.rule if request.url_rule is not None else "(no route)"
    current_app.logger.exception("unhandled error on %s %s", request.method, route)
    return _http_error(InternalServerError())
