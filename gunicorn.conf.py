"""gunicorn settings read from the project folder: `gunicorn 'app:create_app()'`."""

import sys
from typing import Any

wsgi_app = "app:create_app()"
bind = "127.0.0.1:8000"
workers = 2
timeout = 60


def on_starting(server: Any) -> None:
    """Build the app once in the master before any worker starts, and throw it away.

    A wrong setting, a broken event file or a database that needs `flask --app app db upgrade`
    stops gunicorn here with create_app's one-line message (ConfigurationError) and status 1,
    before it listens; an empty database is created at the latest revision here, once. A
    database that is down or hung does not stop it: each worker answers 503 until it is back
    (`store.gate`), then checks its revision.
    """
    from app import create_app
    from config.services import services

    services(create_app()).store.dispose()  # no connection crosses the fork


def post_fork(server: Any, worker: Any) -> None:
    """A worker whose app cannot be built stops gunicorn with the message, not a respawn loop.

    The master checked at start (on_starting), but a database can change under a running
    gunicorn (a newer release's `db upgrade`), and a new worker then fails. gunicorn lets the
    SystemExit of a ConfigurationError end the worker with status 1 and starts another, forever;
    status APP_LOAD_ERROR makes it stop ("App failed to load.").
    """
    load_wsgi = worker.load_wsgi

    def load_or_stop() -> None:
        from config.settings import ConfigurationError

        try:
            load_wsgi()
        except ConfigurationError as exc:
            print(exc, file=sys.stderr, flush=True)
            sys.exit(server.APP_LOAD_ERROR)

    worker.load_wsgi = load_or_stop


def post_worker_init(worker: Any) -> None:
    """Each worker starts its background threads: the sheet worker (one at a time across
    processes, by a lease in the database) and the mail sender (messages claimed one by one)."""
    from app import start_worker

    start_worker(worker.wsgi)
