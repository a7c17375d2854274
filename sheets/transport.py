"""HTTP seams for gspread: how the real client is pointed at a local Sheets API emulator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

GOOGLE_API_PREFIXES = ("https://sheets.googleapis.com/", "https://www.googleapis.com/")


class EmulatorAdapter(HTTPAdapter):
    """Sends requests addressed to Google's API hosts to `host:port` over plain HTTP.

    Mounted on a `requests.Session` handed to `gspread.Client(auth, session=…)`, so the real
    gspread code runs unchanged against the emulator (Google's `*_EMULATOR_HOST` convention).
    """

    def __init__(self, host_port: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.host_port = host_port

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        parts = urlsplit(request.url or "")
        request.url = urlunsplit(("http", self.host_port, parts.path, parts.query, ""))
        return super().send(request, stream, timeout, verify, cert, proxies)


def emulator_session(host_port: str) -> requests.Session:
    """A session whose Google API traffic goes to the emulator at `host_port`."""
    session = requests.Session()
    adapter = EmulatorAdapter(host_port)
    for prefix in GOOGLE_API_PREFIXES:
        session.mount(prefix, adapter)
    return session
