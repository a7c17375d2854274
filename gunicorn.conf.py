"""gunicorn settings read from the project folder: `gunicorn 'app:create_app()'`."""

import sys
from typing import Any

wsgi_app = "app:create_app()"
bind = "127.0.0.1:8000"
workers = 2
timeout = 60


def post_fork(server: Any, worker: Any) -> None:
    """A configuration mistake stops gunicorn with its message, instead of a respawn loop.

    `create_app` raises ConfigurationError (a SystemExit) for a wrong setting, a broken event
    file or a database that needs `flask --app app db upgrade`. gunicorn lets a SystemExit end
    the worker with status 1 and starts another, forever; status APP_LOAD_ERROR makes it
    stop ("App failed to load.") with that status.
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
    """Each worker starts its background syncer; the database lease lets one work at a time."""
    from app import start_worker

    start_worker(worker.wsgi)
