"""The paths that carry a secret, and the request logs that must never show it.

A private link's token (and, with the staff pages and short links, a sign-in token or a code)
is the whole of its protection: whoever reads it in a log can act as the participant. The
service's own log names routes, never paths; the request logs of the servers in front of it
name paths, so a filter masks the secret segment there (`/zgloszenie/<token>` →
`/zgloszenie/…`): werkzeug's under `flask run`, at any LOG_LEVEL, and gunicorn's access log when
one is asked for. Every path that carries a secret is in `SECRET_PATHS`, one list.
"""

from __future__ import annotations

import logging
import re

# Flask-style rules; `<token>` and `<code>` are the secret segments, `<slug>` is not.
SECRET_PATHS = (
    "/wydarzenia/<slug>/zgloszenie/<token>",
    "/api/registrations/<token>",
    "/obsluga/logowanie/<token>",
    "/o/<code>",
    "/zaswiadczenie/<code>",
)
SECRET_SEGMENTS = ("<token>", "<code>")
MASK = "…"
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access")

_SEGMENT = r"[^/?#\s\"']+"
# Where a path starts in a log line: the line's start, after a space, a quote or a bracket
# (`"GET /o/… HTTP/1.1"`), or after a scheme and host (a full URL, e.g. a Referer).
_LEAD = r"(?:^|(?<=[\s\"'(\[])|(?<=://)[^/\s\"']+)"


def _pattern(rule: str) -> re.Pattern[str]:
    parts = re.split(r"(<[a-z_]+>)", rule)
    before: list[str] = []
    for part in parts:
        if part in SECRET_SEGMENTS:
            return re.compile(f"(?P<before>{_LEAD}{''.join(before)}){_SEGMENT}")
        before.append(_SEGMENT if part.startswith("<") else re.escape(part))
    raise ValueError(f"{rule}: no secret segment")


_PATTERNS = tuple(_pattern(rule) for rule in SECRET_PATHS)


# Paths whose query string is a search staff typed (a name, an e-mail address): the request
# logs show the path, never the query (`/obsluga/wydarzenia/x/zgloszenia?…`).
SEARCH_PATHS = (
    "/obsluga/wydarzenia/<slug>/zgloszenia",
    "/obsluga/wydarzenia/<slug>/obecnosc",
)
_SEARCHES = tuple(
    re.compile(
        f"(?P<before>{_LEAD}"
        + "".join(
            _SEGMENT if part.startswith("<") else re.escape(part)
            for part in re.split(r"(<[a-z_]+>)", rule)
        )
        + r"\?)[^\s\"'#]+"
    )
    for rule in SEARCH_PATHS
)


def mask(text: str) -> str:
    """`text` with the secret segment of every path in `SECRET_PATHS` replaced by `…`, and the
    query of every path in `SEARCH_PATHS`."""
    for pattern in (*_PATTERNS, *_SEARCHES):
        text = pattern.sub(lambda found: found.group("before") + MASK, text)
    return text


class MaskSecretPaths(logging.Filter):
    """Rewrites a log record whose message names a path that carries a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a record its own format cannot render: left alone
            return True
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def init_logging() -> None:
    """Mask the request logs of werkzeug (`flask run`) and gunicorn, once per process."""
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskSecretPaths) for f in logger.filters):
            logger.addFilter(MaskSecretPaths())
