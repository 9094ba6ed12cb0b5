"""`chalice local` for `make run`, answering like the deployed API where chalice's local server does not.

    python scripts/chalice_local.py [--host 127.0.0.1] [--port 8000] [--stage local] [--listen-fd N]

Chalice's local gateway answers an unknown route with 403 and copies the request's Authorization
header into the body, a wrong method with 405 {"Code": "MethodNotAllowedError"}, and a media type
outside a route's list with 415 {"Code": "UnsupportedMediaType"}. Here they are 404 not_found,
405 method_not_allowed (with Allow) and 415 unsupported_media_type in the API's error envelope, and
nothing from the request is echoed. (Deployed, API Gateway's gateway responses in
infra/resources.yaml do the same for its own refusals; it cannot tell a wrong method from an unknown
route, so there both are 404.)

With --listen-fd the server takes over a socket its parent already bound (scripts/local_stack.py
binds both ports before starting anything). SIGTERM stops it at once.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only

# The chalice framework's own error codes -> the API's (chalicelib/api/errors.py).
FRAMEWORK_ERRORS = {"UnsupportedMediaType": (415, "unsupported_media_type", "The body's media type is not accepted here.")}


def _error(status: int, code: str, message: str, headers: dict | None = None) -> dict:
    from chalicelib.api.errors import SECURITY_HEADERS, envelope

    return {"statusCode": status, "multiValueHeaders": {},
            "headers": {"Content-Type": "application/json", **SECURITY_HEADERS, **(headers or {})},
            "body": json.dumps(envelope(code, message))}


def _gateway_class():
    from chalice.local import LocalGateway, RouteMatcher

    class EnvelopeGateway(LocalGateway):
        """Routing and method checks before chalice's own, so its refusals never reach the client."""

        def __init__(self, app_object, config) -> None:
            super().__init__(app_object, config)
            self._routes = RouteMatcher(list(app_object.routes))
            self.route = "(no route)"

        def handle_request(self, method, path, headers, body):
            try:
                route = self.route = self._routes.match_route(path).route
            except ValueError:
                return _error(404, "not_found", "Not found.")
            methods = self._app_object.routes[route]
            if method not in methods:
                return _error(405, "method_not_allowed", f"{method} is not allowed here.",
                              {"Allow": ", ".join(sorted(methods))})
            return _translate(super().handle_request(method, path, headers, body))

    return EnvelopeGateway


def _translate(response: dict) -> dict:
    """The framework's own error bodies ({"Code": ..., "Message": ...}) in the API's envelope."""
    if response.get("statusCode", 200) < 400 or not isinstance(response.get("body"), str):
        return response
    try:
        body = json.loads(response["body"])
    except ValueError:
        return response
    if isinstance(body, dict) and body.get("Code") in FRAMEWORK_ERRORS:
        status, code, message = FRAMEWORK_ERRORS[body["Code"]]
        return _error(status, code, message)
    return response


def _exit_when_closed(fd: int) -> None:
    while os.read(fd, 1):
        pass
    os._exit(0)  # the parent is gone: no one would ever stop this server


def make_server(stage: str, host: str, port: int, listen_fd: int | None = None):
    """Chalice's threaded local server for `stage`, with the envelope gateway, bound or adopted."""
    from chalice.cli.factory import CLIFactory
    from chalice.deploy.validate import validate_routes
    from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice, ThreadedHTTPServer

    gateway_class = _gateway_class()

    class Handler(ChaliceRequestHandler):
        def __init__(self, request, client_address, server, app_object, config) -> None:
            self.local_gateway = gateway_class(app_object, config)
            # Skip ChaliceRequestHandler.__init__, which builds chalice's own gateway.
            super(ChaliceRequestHandler, self).__init__(request, client_address, server)

        def _send_http_response_with_body(self, code, headers, body) -> None:
            """A HEAD answer is the headers a GET would get and no body (chalice's handler writes the body too,
            which a client keeping the connection reads as the start of the next response)."""
            if self.command != "HEAD":
                return super()._send_http_response_with_body(code, headers, body)
            self.send_response(code)
            self.send_header("Content-Length", str(len(body.encode() if isinstance(body, str) else body)))
            self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
            self._send_headers(headers)

        def log_request(self, code="-", size="-") -> None:
            # The route pattern, never the path: paths carry link tokens (/i/<token>).
            self.log_message('"%s %s" %s', self.command, self.local_gateway.route, getattr(code, "value", code))

    config = CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name=stage)
    app_obj = config.chalice_app
    validate_routes(app_obj.routes)
    # As chalice.local.create_local_server does: one current_request per thread.
    CustomLocalChalice.__bases__ = (LocalChalice, app_obj.__class__)
    app_obj.__class__ = CustomLocalChalice

    def handler(request, client_address, server):
        return Handler(request, client_address, server, app_object=app_obj, config=config)

    if listen_fd is None:
        return ThreadedHTTPServer((host, port), handler)
    server = ThreadedHTTPServer((host, port), handler, bind_and_activate=False)
    server.socket.close()
    server.socket = socket.socket(fileno=listen_fd)
    server.server_address = server.socket.getsockname()
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--stage", default="local")
    parser.add_argument("--listen-fd", type=int, help="serve on this already bound, listening socket")
    parser.add_argument("--lifeline-fd", type=int, help="exit when this pipe closes (the parent is gone)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.lifeline_fd is not None:
        threading.Thread(target=_exit_when_closed, args=(args.lifeline_fd,), daemon=True).start()
    # As `chalice local` does: the app's log records on stdout, as Lambda would collect them.
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    try:
        server = make_server(args.stage, args.host, args.port, args.listen_fd)
    except OSError as exc:
        print(f"chalice local: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
