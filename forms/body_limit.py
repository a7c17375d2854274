"""`MAX_BODY_BYTES` whatever the framing: a body sent without a length is measured first.

Werkzeug refuses a `Content-Length` over the limit, but a body sent with
`Transfer-Encoding: chunked` has none: it stops reading such a body at the limit and hands on
what it read, so valid JSON padded with 300 KB of spaces was accepted. This WSGI middleware reads
such a body up to one byte past the limit and passes it on with its length, so the same 413
answers it as a body that announced its length.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING

from werkzeug.wsgi import get_content_length

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

_CHUNK = 64 * 1024


class BoundedBody:
    """Wraps a WSGI app; every body reaches it with a `Content-Length`."""

    def __init__(self, app: WSGIApplication, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # Servers that de-chunk a body (gunicorn, Werkzeug's) say so with wsgi.input_terminated;
        # without it a body without a length is not read at all.
        if get_content_length(environ) is None and environ.get("wsgi.input_terminated"):
            body = _read_at_most(environ["wsgi.input"], self.max_bytes + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))  # past the limit: 413, as usual
            environ.pop("HTTP_TRANSFER_ENCODING", None)  # or Werkzeug ignores the length
        return self.app(environ, start_response)


def _read_at_most(stream: IO[bytes], limit: int) -> bytes:
    parts: list[bytes] = []
    left = limit
    while left > 0:
        part = stream.read(min(left, _CHUNK))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)
