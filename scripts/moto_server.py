"""A moto server on loopback that handles one request at a time.

DynamoDB applies each request atomically; moto's backends are not thread-safe, so a threaded server can
interleave two transactions' condition checks and writes. Serving requests one by one restores the
per-request atomicity the service relies on, while clients stay truly concurrent (the server speaks
HTTP/1.0, so no idle keep-alive connection can hold the one worker).

`start()` binds the port before it returns, so a busy port is an OSError right there, never a thread
that dies in the background.
"""
from __future__ import annotations

import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

HOST = "127.0.0.1"


class SerialMotoServer:
    def __init__(self, port: int, host: str = HOST) -> None:
        self._host, self._port = host, port
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self, sock=None) -> None:
        """Bind (or adopt `sock`, already bound and listening) and serve in a daemon thread."""
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(self._host, self._port, app, threaded=False, request_handler=MotoRequestHandler,
                                   fd=sock.fileno() if sock is not None else None)
        if sock is not None:
            sock.close()  # the server holds its own duplicate
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="moto-server", daemon=True)
        self._thread.start()

    def get_host_and_port(self) -> tuple[str, int]:
        assert self._server is not None, "call start() first"
        host, port = self._server.server_address[:2]
        return str(host), port

    def stop(self, timeout: float | None = None) -> None:
        """Stop serving; with a timeout, give up waiting for a request in progress (its thread is a daemon)."""
        if self._server is None:
            return
        stopper = threading.Thread(target=self._server.shutdown, daemon=True)
        stopper.start()
        stopper.join(timeout)
        if self._thread is not None:
            self._thread.join(timeout)
        self._server.server_close()
        self._server = None
