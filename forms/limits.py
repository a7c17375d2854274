"""Rate limits on the public POST endpoints, so a script cannot fill an event or probe at speed.

Every POST counts, whatever its outcome (a validation failure, the honeypot, a closed event, an
unknown link): the limit is taken before the view runs. The registration endpoints (form and
API) share one bucket per client address, the lost-link page and the private-link changes
another, each allowing `RATELIMIT_REGISTRATIONS`. Client addresses reach the limiter's storage
only as keyed hashes: an IPv4 address hashed without a secret could be found again by trying
all of them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import re
import time
from collections.abc import Callable
from typing import cast

from flask import Flask, Response, request
from flask.typing import RouteCallable
from flask_limiter import Limiter
from werkzeug.middleware.proxy_fix import ProxyFix

from config.settings import Settings

EXTENSION_KEY = "owes-limiter"
REDIS_TIMEOUT_SECONDS = 2
# Endpoint → (the methods that count, the bucket they share).
LIMITED: dict[str, tuple[tuple[str, ...], str]] = {
    "forms.registration_form": (("POST",), "registrations"),
    "api.create_registration": (("POST",), "registrations"),
    "forms.remind": (("POST",), "private-links"),
    "forms.registration": (("POST",), "private-links"),
    "forms.cancel": (("POST",), "private-links"),
    "forms.answer": (("POST",), "private-links"),  # the answer to a reminder or an offer
    "api.change_registration": (("PATCH",), "private-links"),
    "api.cancel_registration": (("DELETE",), "private-links"),
    "backoffice.sign_in": (("POST",), "private-links"),  # asking for a staff sign-in link
    "backoffice.sign_in_link": (("POST",), "private-links"),  # signing in with it
}


def client_key(secret: bytes, address: str) -> str:
    """The client's address as an HMAC: the same address gives the same bucket, and the
    storage holds nothing that names the address."""
    network = client_network(address).encode("utf-8")
    return hmac.new(secret, network, hashlib.sha256).hexdigest()[:32]


def client_network(address: str) -> str:
    """What one client can send from: an IPv4 address, or the /64 of an IPv6 one (a host gets
    a whole /64 and could otherwise take a fresh limit with each of its addresses).

    The address is normalised first (`parse_address`): spelt another way, with a port,
    brackets or leading zeros, it is the same client and the same bucket."""
    ip = parse_address(address)
    if ip is None:
        return address.strip().lower()
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


_BRACKETED = re.compile(r"\[(?P<host>[^\]]+)\](?::\d{1,5})?")
_WITH_PORT = re.compile(r"(?P<host>[^:]+):\d{1,5}")


def parse_address(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a proxy's `X-Forwarded-For` entry names, however it is written:
    `198.51.100.1:4444`, `[2001:db8::5]`, `[2001:db8::5]:443`, `fe80::1%eth0`, or with
    leading zeros, `198.051.100.001` (read as decimal, as they are written); None when it is
    no address at all."""
    text = address.strip()
    if bracketed := _BRACKETED.fullmatch(text):
        text = bracketed.group("host")
    elif with_port := _WITH_PORT.fullmatch(text):
        text = with_port.group("host")
    text = text.split("%", 1)[0]  # an IPv6 zone
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    parts = text.split(".")
    if len(parts) == 4 and all(p.isascii() and p.isdigit() and len(p) <= 3 for p in parts):
        try:
            return ipaddress.IPv4Address(".".join(str(int(part)) for part in parts))
        except ValueError:  # a part above 255
            return None
    return None


def init_app(
    app: Flask, settings: Settings, exempt_when: Callable[[], bool] | None = None
) -> Limiter:
    """Believe `TRUSTED_PROXIES` proxies' X-Forwarded-For, and limit the endpoints above,
    except for requests `exempt_when` says are exempt (a signed-in staff session's).

    Call it after the blueprints are registered: it wraps their view functions.
    """
    if settings.trusted_proxies:
        # Without it every client shares the proxy's address (and one bucket); with too high a
        # count a client could choose its own address by sending the header itself.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=0, x_host=0, x_prefix=0
        )
    secret = str(app.config["SECRET_KEY"]).encode("utf-8")
    limiter = Limiter(
        lambda: client_key(secret, request.remote_addr or "unknown"),
        enabled=settings.ratelimit_enabled,
        storage_uri=settings.ratelimit_storage_uri,
        storage_options=_storage_options(settings.ratelimit_storage_uri),
        strategy="moving-window",
        key_prefix=settings.ratelimit_key_prefix,
        # Redis away must not stop registrations: the limits are counted in this process's
        # memory until it is back, and the log says so once each way (`_StorageLog`).
        swallow_errors=True,
        in_memory_fallback_enabled=True,
    )
    _StorageLog.forward_to(app.logger)
    limiter.init_app(app)
    app.extensions[EXTENSION_KEY] = limiter
    if not settings.ratelimit_enabled:  # its decorator would sort each request's limits anyway
        return limiter
    for endpoint, (methods, bucket) in LIMITED.items():
        limit = limiter.shared_limit(
            settings.ratelimit_registrations,
            scope=bucket,
            methods=list(methods),
            exempt_when=exempt_when,
        )
        app.view_functions[endpoint] = cast(RouteCallable, limit(app.view_functions[endpoint]))
    app.after_request(_retry_after(limiter))
    return limiter


def storage_state(app: Flask) -> str:
    """For /healthz: `ok` when the limits' storage answers (memory always does), `unavailable`
    when Redis does not (the limits are counted in each process's memory meanwhile),
    `disabled` with RATELIMIT_ENABLED=false."""
    limiter: Limiter | None = app.extensions.get(EXTENSION_KEY)
    if limiter is None or not limiter.enabled:
        return "disabled"
    try:
        return "ok" if limiter.storage.check() else "unavailable"
    except Exception:  # a storage's own failure to check is an answer too
        return "unavailable"


class _StorageLog(logging.Handler):
    """Flask-Limiter's own log (a logger with no output) in the app's log, in one line each:
    a WARNING when its storage stops answering and the limits fall back to memory, one when it
    is back; anything else it reports, without a traceback."""

    FELL_BACK = "Rate limit storage unreachable"
    RECOVERED = "Rate limit storage recovered"

    def __init__(self, target: logging.Logger) -> None:
        super().__init__(logging.INFO)
        self.target = target

    @classmethod
    def forward_to(cls, target: logging.Logger) -> None:
        source = logging.getLogger("flask-limiter")
        if not any(isinstance(handler, cls) for handler in source.handlers):
            source.addHandler(cls(target))
        source.setLevel(logging.INFO)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(self.FELL_BACK):
            self.target.warning(
                "rate limits: their storage (RATELIMIT_STORAGE_URI) does not answer; counting "
                "in each process's memory until it is back"
            )
        elif message.startswith(self.RECOVERED):
            self.target.warning("rate limits: their storage answers again; counting there")
        elif record.levelno >= logging.WARNING:
            failure = record.exc_info[1] if record.exc_info else None
            reason = f" ({type(failure).__name__})" if failure is not None else ""
            self.target.warning("rate limits: %s%s", message, reason)


def _storage_options(uri: str) -> dict[str, str | int]:
    """A Redis that stops answering delays a POST by seconds, never hangs it."""
    if uri.startswith("memory://"):
        return {}
    return {
        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        "socket_timeout": REDIS_TIMEOUT_SECONDS,
    }


def _retry_after(limiter: Limiter) -> Callable[[Response], Response]:
    def add(response: Response) -> Response:
        """A 429 says when the oldest counted request leaves the window."""
        breached = limiter.current_limit
        if response.status_code == 429 and breached is not None and breached.breached:
            wait = breached.window.reset_time - time.time()
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response

    return add
