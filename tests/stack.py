"""The stack `make run` starts (moto server + chalice local), on free loopback ports, for HTTP tests."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
APP_URL = "https://app.latchkey.example/"  # where the page after accepting sends people


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def stack():
    port, moto_port = _free_port(), _free_port()
    from tests.conftest import TEST_RATE_LIMITS

    env = {**os.environ, "PORT": str(port), "MOTO_PORT": str(moto_port),
           "PLATFORM_REVIEWER_EMAILS": "reviewer@latchkey.example", "RATE_LIMITS": TEST_RATE_LIMITS,
           "APP_URL": APP_URL}
    env.pop("PUBLIC_BASE_URL", None)
    log = open(os.environ.get("STACK_LOG", os.devnull), "w")
    proc = subprocess.Popen([sys.executable, "scripts/local_stack.py"], cwd=ROOT, env=env,
                            stdout=log, stderr=log, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(base + "/health", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the local stack did not start")
        time.sleep(0.3)
    yield base
    os.killpg(proc.pid, 15)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
