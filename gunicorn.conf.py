"""gunicorn settings read from the project folder: `gunicorn 'app:create_app()'`."""

from typing import Any

wsgi_app = "app:create_app()"
bind = "127.0.0.1:8000"
workers = 2
timeout = 60


def post_worker_init(worker: Any) -> None:
    """Each worker starts its background syncer; the database lease lets one work at a time."""
    from app import start_worker

    start_worker(worker.wsgi)
