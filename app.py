"""The application factory: `flask --app app run`, `gunicorn 'app:create_app()'`."""

from __future__ import annotations

import atexit
import os
import secrets
import threading
import time
from pathlib import Path

import click
from flask import Flask, current_app, request
from flask.cli import FlaskGroup
from flask.typing import ResponseReturnValue
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, InternalServerError

import sheets.commands as sheets_commands
from config.events import EventFileError, load_events
from config.services import EXTENSION_KEY, Clock, Services, services, system_clock
from config.settings import ConfigurationError, Settings, describe_settings_error
from forms import api, formatting, views
from forms.blueprint import bp as forms_bp
from sheets import health
from sheets.factory import make_sink, make_worker
from sheets.sink import Sink
from staff import commands as staff_commands
from staff.closeoff import make_closeoff
from store import Store
from store import commands as store_commands


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, sink: Sink | None = None
) -> Flask:
    """Build the app; tests hand in settings, a clock and a sink instead of patching."""
    try:
        settings = settings or Settings()
        events = load_events(settings.events_dir)
    except ValidationError as exc:
        raise ConfigurationError(describe_settings_error(exc)) from None
    except EventFileError as exc:
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
    )
    app.logger.setLevel(settings.log_level)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]

    store = Store(settings.database_url or f"sqlite:///{instance / 'registrations.sqlite3'}")
    svc = Services(
        settings=settings,
        events=events,
        store=store,
        sink=sink or make_sink(settings, instance),
        clock=clock or system_clock,
        instance_path=instance,
    )
    svc.worker = make_worker(svc, app.logger)
    closeoff = make_closeoff(svc, app.logger)
    svc.worker.jobs.append(lambda: closeoff.run_due(list(events.values())))
    app.extensions[EXTENSION_KEY] = svc
    if not _built_to_look_up_a_command():
        try:
            store_commands.prepare_or_refuse(svc, app.logger)
        except BaseException:  # ConfigurationError is a SystemExit
            store.dispose()
            raise

    formatting.init_app(app)
    app.register_blueprint(forms_bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    store_commands.init_app(app)
    sheets_commands.init_app(app)
    staff_commands.init_app(app)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    if settings.run_worker:
        _start_worker_on_first_request(app)
    return app


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
    """Start the background syncer of this process (gunicorn.conf.py calls it per worker)."""
    svc = services(app)
    if svc.settings.run_worker:
        svc.worker.start()
        atexit.register(svc.worker.stop)


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


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    return api.http_error(exc) if request.path.startswith("/api/") else views.error_page(exc)


def _unexpected_error(exc: Exception) -> ResponseReturnValue:
    """Log the bug with its traceback; the participant gets a plain 500 page or JSON."""
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return _http_error(InternalServerError())
