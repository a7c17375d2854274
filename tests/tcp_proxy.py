"""A loopback TCP proxy in front of a server, for tests of a database that is down or hung.

The machine's PostgreSQL is shared by other test runs: it is never stopped. The service is
pointed at this proxy instead, which forwards to it (`forward`), refuses connections and drops
the open ones as a stopped server does (`down`), or keeps every connection open and accepts new
ones but passes no byte either way, as a server stopped with `kill -STOP` (`hang`).
"""

from __future__ import annotations

import selectors
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import make_url


class TcpProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.mode = "forward"
        self._listener: socket.socket | None = None
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._running = threading.Event()
        self._flowing = threading.Event()
        self._flowing.set()
        self.port = self._listen(0)
        self._running.set()

    def url_for(self, database_url: str) -> str:
        """`database_url` with this proxy as its host and port."""
        url = make_url(database_url).set(host="127.0.0.1", port=self.port)
        return url.render_as_string(hide_password=False)

    def forward(self) -> None:
        with self._lock:
            self.mode = "forward"
            if self._listener is None:
                self._listen(self.port)
        self._flowing.set()

    def hang(self) -> None:
        with self._lock:
            self.mode = "hang"
        self._flowing.clear()

    def down(self) -> None:
        with self._lock:
            self.mode = "down"
            listener, self._listener = self._listener, None
            pairs, self._pairs = self._pairs, []
        if listener is not None:
            _close(listener)  # shut down first: a thread blocked in accept() lets go of it
        for pair in pairs:
            for sock in pair:
                _close(sock)
        self._flowing.set()

    def close(self) -> None:
        self._running.clear()
        self.down()

    # -- the threads --------------------------------------------------------------------------

    def _listen(self, port: int) -> int:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return int(listener.getsockname()[1])

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # closed: `down`
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._pairs.append((client, server))
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        other = {client: server, server: client}
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ)
            selector.register(server, selectors.EVENT_READ)
            while self._running.is_set():
                self._flowing.wait()  # hung: nothing is read, so nothing is answered
                try:
                    events = selector.select(timeout=0.1)
                    for key, _ in events:
                        if not self._flowing.is_set():
                            break
                        source = key.fileobj
                        assert isinstance(source, socket.socket)
                        data = source.recv(65536)
                        if not data:
                            raise OSError("closed")
                        other[source].sendall(data)
                except (OSError, ValueError):
                    break
        _close(client)
        _close(server)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


@contextmanager
def proxy_to(database_url: str) -> Iterator[TcpProxy]:
    """A proxy to the server of `database_url`, closed afterwards."""
    url = make_url(database_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    try:
        yield proxy
    finally:
        proxy.close()
