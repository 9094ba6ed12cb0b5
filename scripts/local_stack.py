"""`make run`: a moto server on 127.0.0.1, the table, user pool and sender provisioned on it, then the API.

Nothing reaches AWS: every client points at the moto server. PORT, MOTO_PORT, PUBLIC_BASE_URL and
PLATFORM_REVIEWER_EMAILS come from the environment, so two stacks can run side by side.

Both ports are bound before anything starts: a busy one is one line on stderr and exit status 2. The
API runs in a child process (scripts/chalice_local.py) on the socket bound here; Ctrl-C or SIGTERM
stops both processes within a second, and the child also stops by itself if this process dies.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"  # loopback only
EXIT_BUSY = 2
CHILD_GRACE_SECONDS = 1.0


class Busy(Exception):
    """A port the stack needs is taken."""


def _port(name: str, default: str) -> int:
    value = os.environ.get(name) or default
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise Busy(f"{name}={value} is not a port number")
    return int(value)


def bind(name: str, port: int) -> socket.socket:
    """A listening socket on HOST:port, or Busy. SO_REUSEADDR as servers set it: a port left in
    TIME_WAIT by the previous run is free, one another program listens on is not."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise Busy(f"{name} {port} on {HOST} is in use ({exc.strerror}); "
                   f"stop what holds it or choose another, e.g. {name}={port + 1} make run") from exc
    return sock


def main() -> int:
    stop = threading.Event()

    def request_stop(_signum, _frame):
        stop.set()

    # Before anything starts: a signal at any moment below ends the stack the same way.
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    try:
        port, moto_port = _port("PORT", "8000"), _port("MOTO_PORT", "5055")
        if port == moto_port:
            raise Busy(f"PORT and MOTO_PORT are both {port}: give them different ports")
        api_socket = bind("PORT", port)
        moto_socket = bind("MOTO_PORT", moto_port)
    except Busy as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return EXIT_BUSY

    public_base_url = os.environ.get("PUBLIC_BASE_URL") or f"http://{HOST}:{port}"
    endpoint = f"http://{HOST}:{moto_port}"
    fake_aws = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint}
    os.environ.update(fake_aws)
    # moto's user pool checks authenticator codes (TOTP) as Cognito does; without this it takes any code.
    os.environ["MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP"] = "true"
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)

    import logging

    from scripts import moto_patches
    from scripts.moto_server import SerialMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per fake AWS call is noise
    moto_patches.apply()  # transactions and queries cost what they touch, not the whole table

    server = SerialMotoServer(moto_port)
    child = None
    lifeline_read, lifeline_write = os.pipe()  # the child exits when this process is gone, however it went
    try:
        server.start(sock=moto_socket)
        from chalicelib.adapters.provision import provision

        env = provision("us-east-1", "latchkey-local", os.environ.get("MAIL_FROM", "Latchkey <no-reply@latchkey.example>"),
                        endpoint_url=endpoint)
        env.update(fake_aws)
        env.update({"STAGE": "local", "PUBLIC_BASE_URL": public_base_url, "LOCAL_MAIL_WORKER": "1",
                    "PLATFORM_REVIEWER_EMAILS": os.environ.get("PLATFORM_REVIEWER_EMAILS", ""),
                    # Bulk mail goes out at this pace locally (moto's SES reports one a second): a 1,000-client
                    # job takes about a minute.
                    "MAIL_SEND_RATE": os.environ.get("MAIL_SEND_RATE", "20")})
        if stop.is_set():
            return 0
        command = [sys.executable, str(ROOT / "scripts" / "chalice_local.py"), "--stage", "local",
                   "--host", HOST, "--port", str(port), "--listen-fd", str(api_socket.fileno()),
                   "--lifeline-fd", str(lifeline_read)]
        child = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},
                                 pass_fds=(api_socket.fileno(), lifeline_read))
        api_socket.close()
        os.close(lifeline_read)
        print(f"Latchkey API      http://{HOST}:{port}", flush=True)
        print(f"Local mail page   http://{HOST}:{port}/_dev/mail", flush=True)
        print(f"Links in mail     {public_base_url}/...", flush=True)
        print(f"moto (fake AWS)   {endpoint}", flush=True)
        while not stop.wait(0.2):
            if child.poll() is not None:
                print(f"make run: the API stopped (exit status {child.returncode})", file=sys.stderr)
                return child.returncode or 1
        return 0
    finally:
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(CHILD_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        server.stop(timeout=0.5)
        os.close(lifeline_write)


if __name__ == "__main__":
    sys.exit(main())
