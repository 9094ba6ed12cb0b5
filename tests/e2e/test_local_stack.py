"""`make run` as a person at a terminal meets it: a busy port, Ctrl-C, kill, and the routes that do not exist.

The bounds on time are generous but mean something: a busy port must fail before anything starts
(Python's start-up included), and a stop must take well under the 15 seconds it used to.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
import requests

from tests.stack import ROOT

pytestmark = pytest.mark.e2e

FAIL_FAST_SECONDS = 10.0  # an interpreter start and the imports of a slow, shared machine
STOP_SECONDS = 2.0
TOKEN = "Bearer eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2VuLWJvZHk.c2lnbmF0dXJl"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@contextmanager
def _listener():
    """Another program's server on a port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        yield s.getsockname()[1]


def _run_stack(port: int, moto_port: int, **popen) -> subprocess.Popen:
    env = {**os.environ, "PORT": str(port), "MOTO_PORT": str(moto_port)}
    env.pop("PUBLIC_BASE_URL", None)
    return subprocess.Popen([sys.executable, "scripts/local_stack.py"], cwd=ROOT, env=env, text=True, **popen)


@pytest.mark.parametrize("busy", ["PORT", "MOTO_PORT"])
def test_a_busy_port_fails_at_once_with_one_clear_line_and_starts_nothing(busy):
    with _listener() as taken:
        other = _free_port()
        port, moto_port = (taken, other) if busy == "PORT" else (other, taken)
        started = time.monotonic()
        result = subprocess.run([sys.executable, "scripts/local_stack.py"], cwd=ROOT, capture_output=True, text=True,
                                env={**os.environ, "PORT": str(port), "MOTO_PORT": str(moto_port)},
                                timeout=60)
        elapsed = time.monotonic() - started
    assert result.returncode == 2
    assert elapsed < FAIL_FAST_SECONDS
    assert result.stdout == ""  # no banner: nothing is served
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{busy} {taken}" in lines[0] and "in use" in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert _port_is_free(other), "the other port was left taken"


def _children(pid: int) -> list[int]:
    path = f"/proc/{pid}/task/{pid}/children"
    with open(path) as f:
        return [int(c) for c in f.read().split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


@contextmanager
def _started_stack():
    port, moto_port = _free_port(), _free_port()
    proc = _run_stack(port, moto_port, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                if requests.get(base + "/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "the local stack did not start"
            time.sleep(0.2)
        children = _children(proc.pid)
        assert len(children) == 1, children  # the API's process
        # A client holding connections open, as a browser or a test session does.
        session = requests.Session()
        assert session.get(base + "/health").status_code == 200
        yield proc, children[0], port, moto_port
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _stopped_within(pids: list[int], seconds: float) -> float:
    started = time.monotonic()
    while any(_alive(p) for p in pids):
        if time.monotonic() - started > seconds + 3:
            break
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.mark.parametrize("how", ["SIGTERM to make run", "Ctrl-C in its terminal"])
def test_the_stack_stops_within_two_seconds_with_both_processes(how):
    with _started_stack() as (proc, child, port, moto_port):
        if how.startswith("SIGTERM"):
            proc.send_signal(signal.SIGTERM)
        else:
            os.killpg(proc.pid, signal.SIGINT)  # what the terminal sends to the foreground group
        elapsed = _stopped_within([proc.pid, child], STOP_SECONDS)
        proc.wait(5)
        assert elapsed < STOP_SECONDS, f"stopped after {elapsed:.1f} s"
        assert proc.returncode == 0
        assert not _alive(child), "the API's process outlived the stack"
        assert _port_is_free(port) and _port_is_free(moto_port)


def test_the_api_process_does_not_outlive_a_killed_stack():
    with _started_stack() as (proc, child, port, _moto_port):
        proc.kill()  # no chance to clean up
        proc.wait()
        elapsed = _stopped_within([child], STOP_SECONDS)
        assert not _alive(child) and elapsed < STOP_SECONDS, "the API kept running without its moto server"
        # The process shows as gone as soon as its main thread is; its other threads (the local queue worker)
        # and its sockets follow a moment later, still within the time allowed.
        deadline = time.monotonic() + STOP_SECONDS - elapsed
        while not _port_is_free(port) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _port_is_free(port)


def _error(response) -> dict:
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    return body["error"]


def test_an_unknown_route_is_404_not_found_and_never_echoes_the_token(stack):
    for method in ("GET", "POST", "DELETE"):
        response = requests.request(method, stack + "/no/such/route", headers={"Authorization": TOKEN}, timeout=10)
        assert response.status_code == 404, method
        assert _error(response)["code"] == "not_found"
        assert "c2VjcmV0" not in response.text and "Authorization" not in response.text


def test_a_wrong_method_is_405_method_not_allowed_with_the_allowed_ones(stack):
    response = requests.delete(stack + "/health", headers={"Authorization": TOKEN}, timeout=10)
    assert response.status_code == 405
    assert _error(response)["code"] == "method_not_allowed"
    assert response.headers["Allow"] == "GET"
    assert "c2VjcmV0" not in response.text


def test_a_media_type_no_route_accepts_is_415_in_the_envelope(stack):
    response = requests.post(stack + "/auth/signup", data=b"\x89PNG", headers={"Content-Type": "image/png"},
                             timeout=10)
    assert response.status_code == 415
    assert _error(response)["code"] == "unsupported_media_type"
    assert json.loads(response.text)["error"]["message"]


def test_a_head_request_gets_headers_only_and_the_connection_stays_usable(stack):
    import http.client
    from urllib.parse import urlsplit

    where = urlsplit(stack)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    try:
        for path in ("/auth/login", "/openapi.json"):  # a refused method (405) and a route that answers
            conn.request("HEAD", path)
            head = conn.getresponse()
            assert head.read() == b"" and head.status in (200, 405)
            # the next request on the same connection reads a clean response
            conn.request("GET", "/openapi.json")
            follow = conn.getresponse()
            assert follow.status == 200 and json.loads(follow.read())["openapi"].startswith("3.")
    finally:
        conn.close()
