"""The local stack over a long session: thousands of requests against `make run`'s stack, and the memory of
its two processes (moto's server and the API) as they go. Prints figures; asserts nothing.

    python bench/soak.py [--writes 1000] [--reads 2000]

Writing rounds invite someone, read /me and the account's invitations and revoke the invitation: moto keeps
the table in memory, so the moto server grows with the items written (a few KB each). Reading rounds read /me,
the account, its invitations and its audit: there, flat means flat.
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


def _round(http: requests.Session, base: str, headers: dict, account: str, n: int, writes: bool) -> list:
    if not writes:
        return [http.get(f"{base}/me", headers=headers),
                http.get(f"{base}/accounts/{account}/invitations", headers=headers),
                http.get(f"{base}/accounts/{account}/audit", headers=headers),
                http.get(f"{base}/accounts/{account}", headers=headers)]
    r = http.post(f"{base}/accounts/{account}/invitations", headers=headers,
                  json={"email": f"guest{n}-{uuid.uuid4().hex[:6]}@example.com", "role": "collaborator"})
    answers = [r, http.get(f"{base}/me", headers=headers),
               http.get(f"{base}/accounts/{account}/invitations", headers=headers)]
    if r.status_code == 201:
        answers.append(http.delete(f"{base}/accounts/{account}/invitations/{r.json()['invitation_id']}",
                                   headers=headers))
    return answers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writes", type=int, default=1000, help="requests in rounds that invite and revoke")
    parser.add_argument("--reads", type=int, default=2000, help="requests in rounds that only read")
    args = parser.parse_args()
    proc, base = _start()
    try:
        http = requests.Session()
        headers, account = _owner(http, base)
        api_pid = (_children(proc.pid) or [proc.pid])[0]
        print("Local stack soak (the moto server and the API, as `make run` starts them):")
        print(f"  {'phase':<7} {'requests':>9} {'moto MB':>8} {'API MB':>7} {'ms/request':>11}")
        for phase, total in (("writes", args.writes), ("reads", args.reads)):
            rounds, sent, statuses = max(1, total // 4), 0, {}
            samples, started = [], time.monotonic()
            for n in range(rounds):
                for a in _round(http, base, headers, account, n, phase == "writes"):
                    statuses[a.status_code] = statuses.get(a.status_code, 0) + 1
                    sent += 1
                if n % max(1, rounds // 4) == 0 or n == rounds - 1:
                    samples.append((sent, _rss_mb(proc.pid), _rss_mb(api_pid)))
                    elapsed = (time.monotonic() - started) * 1000 / sent
                    print(f"  {phase:<7} {sent:>9} {samples[-1][1]:>8.1f} {samples[-1][2]:>7.1f} {elapsed:>11.1f}")
            first, last = samples[0], samples[-1]
            print(f"  {phase}: statuses {statuses}; growth moto {last[1] - first[1]:+.1f} MB, "
                  f"API {last[2] - first[2]:+.1f} MB over {last[0] - first[0]} requests")
        print("  (writes add items to the table that moto keeps in memory; reads should add nothing)")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
