"""The local stack over a long session: thousands of requests against `make run`'s stack, and the memory of
its two processes (moto's server and the API) as they go. Prints figures; asserts nothing.

    python bench/soak.py [--requests 4000]

Each round is what a person does most: invite someone, read /me and the account's invitations, revoke the
invitation. Flat means the last samples are within a few MB of the ones after warm-up.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "a long enough password"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    match = re.search(r"VmRSS:\s+(\d+) kB", text)
    return int(match.group(1)) / 1024 if match else 0.0


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _start() -> tuple[subprocess.Popen, str]:
    port, moto_port = _free_port(), _free_port()
    env = {**os.environ, "PORT": str(port), "MOTO_PORT": str(moto_port),
           "RATE_LIMITS": '{"invites_per_inviter_per_day": 1000000, "invites_per_account_per_day": 1000000}'}
    env.pop("PUBLIC_BASE_URL", None)
    proc = subprocess.Popen([sys.executable, "scripts/local_stack.py"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/health", timeout=1).status_code == 200:
                return proc, base
        except requests.RequestException:
            time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    raise SystemExit("the local stack did not start")


def _owner(http: requests.Session, base: str) -> tuple[dict, str]:
    email = f"soak-{uuid.uuid4().hex[:8]}@example.com"
    http.post(f"{base}/auth/signup", json={"email": email, "password": PASSWORD, "first_name": "So",
                                           "last_name": "Ak"})
    mail = http.get(f"{base}/_dev/outbox", params={"to": email}).json()["items"]
    token = next(link for m in mail for link in m["links"] if "/verify/" in link).rsplit("/", 1)[1]
    http.post(f"{base}/auth/verify-email", json={"token": token})
    login = http.post(f"{base}/auth/login", json={"email": email, "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {login['access_token']}"}
    account = http.post(f"{base}/accounts", json={"name": "Soak", "type": "personal"}, headers=headers).json()
    return headers, account["account_id"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=4000)
    args = parser.parse_args()
    proc, base = _start()
    try:
        http = requests.Session()
        headers, account = _owner(http, base)
        api_pid = (_children(proc.pid) or [proc.pid])[0]
        rounds, samples, sent, statuses = args.requests // 4, [], 0, {}
        started = time.monotonic()
        for n in range(rounds):
            r = http.post(f"{base}/accounts/{account}/invitations", headers=headers,
                          json={"email": f"guest{n}-{uuid.uuid4().hex[:6]}@example.com", "role": "collaborator"})
            invitation = r.json().get("invitation_id") if r.status_code == 201 else None
            answers = [r, http.get(f"{base}/me", headers=headers),
                       http.get(f"{base}/accounts/{account}/invitations", headers=headers)]
            if invitation:
                answers.append(http.delete(f"{base}/accounts/{account}/invitations/{invitation}", headers=headers))
            for a in answers:
                statuses[a.status_code] = statuses.get(a.status_code, 0) + 1
            sent += len(answers)
            if n % max(1, rounds // 8) == 0 or n == rounds - 1:
                samples.append((sent, _rss_mb(proc.pid), _rss_mb(api_pid), time.monotonic() - started))
        print(f"Local stack soak: {sent} requests in {time.monotonic() - started:.0f} s; statuses {statuses}")
        print(f"  {'requests':>9} {'moto MB':>8} {'API MB':>7} {'seconds':>8}")
        for count, moto_mb, api_mb, seconds in samples:
            print(f"  {count:>9} {moto_mb:>8.1f} {api_mb:>7.1f} {seconds:>8.1f}")
        if len(samples) > 2:
            warm, last = samples[1], samples[-1]
            print(f"  growth after warm-up: moto {last[1] - warm[1]:+.1f} MB, API {last[2] - warm[2]:+.1f} MB "
                  f"over {last[0] - warm[0]} requests")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
