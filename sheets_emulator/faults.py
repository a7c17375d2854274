"""Fault injection: answer errors, stall, or cut the TCP connection, before or after applying.

This is the network layer around the API app (a WSGI middleware), so "Google applied the write
but the client never heard back" can be staged exactly: `apply_then_drop` runs the real handler,
then shuts the socket down without a byte of answer.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from .errors import ApiError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

ACTIONS = ("status", "delay", "apply_then_status", "apply_then_drop", "drop")
CONTROL_PREFIX = "/_emulator/"


@dataclass
class FaultRule:
    """Which requests a fault hits and what happens to them.

    `times` is how many matching requests it affects; None means every one from now on.
    """

    action: str
    method: str | None = None
    path_contains: str | None = None
    body_contains: str | None = None
    status: int = 500
    message: str | None = None
    seconds: float = 0.0
    times: int | None = 1

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}; one of {ACTIONS}")
        if self.times is not None and self.times < 0:
            self.times = None  # -1 conventionally means unlimited

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultRule:
        match = data.get("match") or {}
        return cls(
            action=str(data["action"]),
            method=match.get("method"),
            path_contains=match.get("path_contains"),
            body_contains=match.get("body_contains"),
            status=int(data.get("status", 500)),
            message=data.get("message"),
            seconds=float(data.get("seconds", 0.0)),
            times=data.get("times", 1),
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def matches(self, method: str, path: str, body: bytes) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path_contains is not None and self.path_contains not in path:
            return False
        body_text = body.decode("utf-8", "replace")
        return self.body_contains is None or self.body_contains in body_text

    def error_body(self) -> bytes:
        return json.dumps(ApiError(self.status, self.message).body()).encode()


class FaultRules:
    """The active rules, first match wins; each hit uses up one of its `times`."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def active(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def take(self, method: str, path: str, body: bytes) -> FaultRule | None:
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path, body):
                    if rule.times is not None:
                        rule.times -= 1
                        if rule.times <= 0:
                            self._rules.remove(rule)
                    return rule
        return None


def request_path(environ: WSGIEnvironment) -> str:
    """PATH_INFO as text (WSGI hands it over as latin-1-decoded bytes)."""
    raw: str = environ.get("PATH_INFO", "")
    return raw.encode("latin-1").decode("utf-8", "replace")


RequestLogger = Callable[[str, str, str, str], None]  # (method, path, query, body)


class FaultMiddleware:
    """Wraps the API app: logs each API request, then applies the first matching fault.

    Control endpoints under /_emulator/ are neither logged nor faulted.
    """

    def __init__(self, app: WSGIApplication, rules: FaultRules, log: RequestLogger) -> None:
        self.app = app
        self.rules = rules
        self.log = log

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = request_path(environ)
        if path.startswith(CONTROL_PREFIX):
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        body = _buffer_body(environ)
        self.log(method, path, environ.get("QUERY_STRING", ""), body.decode("utf-8", "replace"))
        rule = self.rules.take(method, path, body)
        if rule is None:
            return self.app(environ, start_response)
        if rule.action == "delay":
            time.sleep(rule.seconds)
            return self.app(environ, start_response)
        if rule.action == "status":
            return _answer(start_response, rule)
        if rule.action == "drop":
            _drop(environ)
        _run_and_discard(self.app, environ)
        if rule.action == "apply_then_drop":
            _drop(environ)
        return _answer(start_response, rule)


def _buffer_body(environ: WSGIEnvironment) -> bytes:
    """Read the body once so rules can match it and the app can still read it."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _run_and_discard(app: WSGIApplication, environ: WSGIEnvironment) -> None:
    def ignore(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return lambda data: None

    result = app(environ, ignore)
    try:
        for _ in result:
            pass
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


def _answer(start_response: StartResponse, rule: FaultRule) -> list[bytes]:
    body = rule.error_body()
    status = f"{rule.status} {'Error' if rule.status >= 400 else 'OK'}"
    start_response(
        status,
        [("Content-Type", "application/json; charset=UTF-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _drop(environ: WSGIEnvironment) -> None:
    """Close the TCP connection with no answer; the client sees a connection error.

    Raising a ConnectionError makes werkzeug's server treat it as a dropped connection and stay
    quiet about it.
    """
    sock: socket.socket | None = environ.get("werkzeug.socket")
    if sock is None:
        raise RuntimeError("dropping a connection needs werkzeug's server (werkzeug.socket)")
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    raise ConnectionAbortedError("connection dropped by an injected fault")
