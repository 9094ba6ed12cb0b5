"""`make bench`: every operation of the API N times, in process on moto.

For each operation it prints the AWS calls one request makes (DynamoDB by operation name, Cognito,
SES), the median and p95 latency, the DynamoDB request units and what they would cost on demand;
then how long a fresh interpreter takes to `import app` (the Lambda cold start before the first
request). Latencies are moto's, in this process: compare them with each other, not with AWS.

    .venv/bin/python bench/bench.py [--requests N]

Nothing here asserts a timing; it prints figures.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Never AWS, never a configured endpoint: moto intercepts in process only without one.
for _var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
    os.environ.pop(_var, None)
os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SECURITY_TOKEN": "bench",
                   "AWS_SESSION_TOKEN": "bench", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"})

import botocore.handlers  # noqa: E402
import moto  # noqa: E402  (before any client exists, so that it can intercept them)

REGION = "us-east-1"
TABLE = "latchkey-bench"
MAIL_FROM = "Latchkey <no-reply@latchkey.example>"
BASE_URL = "https://latchkey.bench"
PASSWORD = "correct horse battery"
MOTO_JWKS = Path(moto.__file__).parent / "cognitoidp" / "resources" / "jwks-public.json.gz"

# DynamoDB on-demand prices, us-east-1, Standard table class, in effect since 1 November 2024
# (https://aws.amazon.com/dynamodb/pricing/on-demand/). Other regions cost more.
USD_PER_MILLION_WRITE_UNITS = 0.625
USD_PER_MILLION_READ_UNITS = 0.125
# SES outbound mail: USD 0.10 per 1,000 messages (https://aws.amazon.com/ses/pricing/).
USD_PER_MILLION_MAILS = 100.0

# Request-unit sizes: a read unit covers 4 KB strongly consistent (half a unit eventually
# consistent), a write unit 1 KB. A transaction costs two write units per item; its condition
# checks are counted the same way.
READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024
INDEX_KEYS = {"gsi1": ("gsi1pk", "gsi1sk"), "gsi2": ("gsi2pk", "gsi2sk")}


# --- counting AWS calls -------------------------------------------------------------------------

def _value_size(value: dict) -> int:
    """Approximate stored size of one DynamoDB attribute value (the rules of the developer guide)."""
    (kind, v), = value.items()
    if kind == "S":
        return len(v.encode("utf-8"))
    if kind == "N":
        return 1 + (len(v.lstrip("-").replace(".", "")) + 1) // 2
    if kind == "B":
        return len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: x}) for x in v)
    if kind == "L":
        return 3 + sum(1 + _value_size(x) for x in v)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + 1 + _value_size(x) for k, x in v.items())
    return 0


def item_size(item: dict | None) -> int:
    return sum(len(k.encode("utf-8")) + _value_size(v) for k, v in (item or {}).items())


def _read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def _write_units(size: int) -> float:
    return float(max(1, math.ceil(size / WRITE_UNIT_BYTES)))


def _index_writes(item: dict) -> float:
    """A put also writes every GSI whose keys the item carries (all attributes are projected)."""
    return sum(_write_units(item_size(item)) for keys in INDEX_KEYS.values() if all(k in item for k in keys))


def _update_index_writes(request: dict) -> float:
    # An update that sets or removes a GSI key moves the item in or out of that index. An update
    # of an item already in an index that leaves its keys alone also writes the index; that is not
    # seen from the request (none of the operations measured here does it).
    names = set((request.get("ExpressionAttributeNames") or {}).values())
    return float(sum(1 for keys in INDEX_KEYS.values() if names & set(keys)))


def request_units(operation: str, params: dict, response: dict) -> tuple[float, float]:
    """(read units, write units) of one DynamoDB call, from its request and response.

    Updates and deletes whose old image is not returned are taken as items under 1 KB (every
    item kind of this table is).
    """
    if operation == "GetItem":
        return _read_units(item_size(response.get("Item")), bool(params.get("ConsistentRead"))), 0.0
    if operation == "BatchGetItem":
        reads = 0.0
        for table, request in params.get("RequestItems", {}).items():
            found = response.get("Responses", {}).get(table, [])
            consistent = bool(request.get("ConsistentRead"))
            reads += sum(_read_units(item_size(i), consistent) for i in found)
            reads += _read_units(0, consistent) * max(0, len(request.get("Keys", [])) - len(found))
        return reads, 0.0
    if operation == "Query":
        consistent = bool(params.get("ConsistentRead")) and not params.get("IndexName")
        return _read_units(sum(item_size(i) for i in response.get("Items", [])), consistent), 0.0
    if operation == "PutItem":
        item = params.get("Item", {})
        return 0.0, _write_units(item_size(item)) + _index_writes(item)
    if operation == "UpdateItem":
        return 0.0, _write_units(item_size(response.get("Attributes"))) + _update_index_writes(params)
    if operation == "DeleteItem":
        return 0.0, _write_units(item_size(response.get("Attributes")))
    if operation == "TransactWriteItems":
        writes = 0.0
        for entry in params.get("TransactItems", []):
            (kind, request), = entry.items()
            if kind == "Put":
                writes += 2 * _write_units(item_size(request.get("Item"))) + _index_writes(request.get("Item", {}))
            elif kind == "Update":
                writes += 2 * _write_units(0) + _update_index_writes(request)
            else:  # Delete, ConditionCheck
                writes += 2 * _write_units(0)
        return 0.0, writes
    return 0.0, 0.0  # control plane (DescribeTable, ...) is not billed per request


class AwsCalls:
    """Counts every AWS API call made by any botocore client, and DynamoDB's request units.

    PynamoDB builds its own botocore sessions (one per model connection, one per transaction), so
    the handlers go into botocore's built-in list, which every new session registers, the way moto
    installs its own interceptor.
    """

    def __init__(self) -> None:
        self.calls: Counter = Counter()
        self.clients_created = 0
        self.read_units = 0.0
        self.write_units = 0.0
        self._entries = [("before-parameter-build", self._on_params), ("after-call", self._on_response),
                         ("creating-client-class", self._on_new_client)]

    def install(self) -> None:
        botocore.handlers.BUILTIN_HANDLERS.extend(self._entries)

    def uninstall(self) -> None:
        for entry in self._entries:
            if entry in botocore.handlers.BUILTIN_HANDLERS:
                botocore.handlers.BUILTIN_HANDLERS.remove(entry)

    def reset(self) -> None:
        self.calls = Counter()
        self.clients_created = 0
        self.read_units = self.write_units = 0.0

    def _on_new_client(self, **_):
        # Building a botocore client parses its service model: tens of milliseconds of CPU each time.
        self.clients_created += 1

    def _on_params(self, params, model, context, **_):
        context["bench_params"] = params

    def _on_response(self, parsed, model, context, **_):
        service = model.service_model.service_name
        self.calls[(service, model.name)] += 1
        if service == "dynamodb":
            reads, writes = request_units(model.name, context.get("bench_params", {}), parsed or {})
            self.read_units += reads
            self.write_units += writes


# --- driving the API ----------------------------------------------------------------------------

class Mailbox:
    """Wraps the app's mailer: the message still goes to (moto's) SES, and its links are kept here. Mail the
    identity routes queue is sent (outside any measured request) before a link is looked up."""

    def __init__(self, inner, deps=None) -> None:
        self.inner = inner
        self.deps = deps
        self.links: dict[str, list[str]] = defaultdict(list)

    def deliver_queued(self) -> None:
        queue = getattr(self.deps, "mail_queue", None)
        if queue is not None:
            from chalicelib.services import deliveries

            queue.drain(lambda job: deliveries.deliver(self.deps, job))

    def send(self, message) -> str:
        message_id = self.inner.send(message)
        for to in message.to:
            self.links[to].extend(message.links)
        return message_id

    def token(self, email: str, prefix: str) -> str:
        self.deliver_queued()
        for link in reversed(self.links[email]):
            if link.startswith(BASE_URL + prefix):
                return link.rsplit("/", 1)[1]
        raise SystemExit(f"bench: no {prefix} link was mailed to {email}")


@dataclasses.dataclass
class Operation:
    label: str
    samples_ms: list = dataclasses.field(default_factory=list)
    calls: Counter = dataclasses.field(default_factory=Counter)
    clients_created: int = 0
    read_units: float = 0.0
    write_units: float = 0.0

    @property
    def n(self) -> int:
        return len(self.samples_ms)

    def per_request(self, service: str) -> float:
        return sum(c for (s, _), c in self.calls.items() if s == service) / self.n

    def percentile(self, p: float) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, math.ceil(p * len(ordered)) - 1)]


class Bench:
    def __init__(self, client, counter: AwsCalls) -> None:
        self.client = client
        self.counter = counter
        self.operations: dict[str, Operation] = {}
        self.first_requests: list[tuple[str, float, int]] = []  # (label, ms, botocore clients built)

    def call(self, method: str, path: str, body=None, token: str | None = None, expect: int | None = None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = getattr(self.client.http, method.lower())(
            path, headers=headers, body=json.dumps(body) if body is not None else None)
        try:
            payload = json.loads(response.body) if response.body else None
        except ValueError:  # an HTML page
            payload = response.body
        if expect is not None and response.status_code != expect:
            raise SystemExit(f"bench: {method} {path} answered {response.status_code}, not {expect}: {payload}")
        return payload

    def first(self, label: str, method: str, path: str, body=None, token: str | None = None, expect: int = 200):
        """A request of the warm-up pass: timed and kept apart from the measured ones."""
        self.counter.reset()
        started = time.perf_counter()
        payload = self.call(method, path, body, token, expect=expect)
        self.first_requests.append((label, (time.perf_counter() - started) * 1000, self.counter.clients_created))
        return payload

    def measure(self, label: str, requests, expect: int) -> list:
        """Send each (method, path, body, token) and record its calls and latency under `label`."""
        op = self.operations.setdefault(label, Operation(label))
        payloads = []
        for method, path, body, token in requests:
            self.counter.reset()
            started = time.perf_counter()
            payloads.append(self.call(method, path, body, token, expect=expect))
            op.samples_ms.append((time.perf_counter() - started) * 1000)
            op.calls.update(self.counter.calls)
            op.clients_created += self.counter.clients_created
            op.read_units += self.counter.read_units
            op.write_units += self.counter.write_units
        return payloads


def signup_body(email: str) -> dict:
    return {"email": email, "password": PASSWORD, "first_name": "Bench", "last_name": "User"}


def scenario(bench: Bench, mailbox: Mailbox, n: int) -> None:
    # Warm-up: the first request of each kind in this process pays for lazy imports, botocore
    # clients and the JWKS (a Lambda cold start after the import). Reported apart, never measured.
    email = "warm-up@bench.example"
    bench.first("POST /auth/signup", "POST", "/auth/signup", signup_body(email), expect=202)
    bench.first("POST /auth/verify-email", "POST", "/auth/verify-email",
                {"token": mailbox.token(email, "/verify/")})
    warm = bench.first("POST /auth/login", "POST", "/auth/login", {"email": email, "password": PASSWORD})["access_token"]
    account = bench.first("POST /accounts", "POST", "/accounts", {"name": "Warm", "type": "personal"}, warm,
                          expect=201)["account_id"]
    bench.first("GET /me", "GET", "/me", token=warm)
    bench.first("GET /accounts/{id}", "GET", f"/accounts/{account}", token=warm)
    bench.first("PATCH /accounts/{id}", "PATCH", f"/accounts/{account}", {"name": "Warmer"}, warm)
    bench.first("GET /accounts/{id}/permissions/{action}", "GET", f"/accounts/{account}/permissions/money.withdraw",
                token=warm)
    bench.first("GET /accounts/{id}/members", "GET", f"/accounts/{account}/members", token=warm)
    bench.first("GET /accounts/{id}/audit", "GET", f"/accounts/{account}/audit", token=warm)
    bench.first("POST /accounts/{id}/invitations", "POST", f"/accounts/{account}/invitations",
                {"email": "warm-invitee@bench.example", "role": "collaborator"}, warm, expect=201)

    emails = [f"person-{i}@bench.example" for i in range(n)]
    bench.measure("POST /auth/signup", [("POST", "/auth/signup", signup_body(e), None) for e in emails], 202)
    bench.measure("POST /auth/verify-email", [
        ("POST", "/auth/verify-email", {"token": mailbox.token(e, "/verify/")}, None) for e in emails], 200)
    tokens = [p["access_token"] for p in bench.measure("POST /auth/login", [
        ("POST", "/auth/login", {"email": e, "password": PASSWORD}, None) for e in emails], 200)]

    owner = tokens[0]
    created = bench.measure("POST /accounts", [
        ("POST", "/accounts", {"name": f"Household {i}", "type": "personal" if i % 2 else "business"}, owner)
        for i in range(n)], 201)
    account = f"/accounts/{created[0]['account_id']}"

    # GET /me for a typical caller: two accounts of their own.
    for kind in ("personal", "business"):
        bench.call("POST", "/accounts", {"name": f"Own {kind}", "type": kind}, tokens[1], expect=201)
    bench.measure("GET /me", [("GET", "/me", None, tokens[1])] * n, 200)

    bench.measure("GET /accounts/{id}", [("GET", account, None, owner)] * n, 200)
    bench.measure("PATCH /accounts/{id}", [
        ("PATCH", account, {"name": f"Renamed {i}"}, owner) for i in range(n)], 200)
    bench.measure("GET /accounts/{id}/permissions/{action}", [
        ("GET", f"{account}/permissions/money.withdraw", None, owner)] * n, 200)
    bench.measure("GET /accounts/{id}/members", [("GET", f"{account}/members", None, owner)] * n, 200)
    bench.measure("GET /accounts/{id}/audit", [("GET", f"{account}/audit", None, owner)] * n, 200)
    invitation_scenario(bench, mailbox, n, owner, account, emails[1:])
    enumeration_scenario(bench, mailbox, n, emails[3])
    partner_scenario(bench, n, tokens[2], emails[2])  # a fresh inviter: the first one used its daily quota
    enrol(bench, tokens[3])
    client_portal_scenario(bench, n, tokens[3])


def enumeration_scenario(bench: Bench, mailbox: Mailbox, n: int, known: str) -> None:
    """The public identity routes with a known and an unknown address, interleaved so that drift hits both."""
    for i in range(n):
        unknown = f"nobody-{i}@bench.example"
        for label, email in (("known", known), ("unknown", unknown)):
            bench.measure(f"POST /auth/password/forgot ({label})", [
                ("POST", "/auth/password/forgot", {"email": email}, None)], 202)
            bench.measure(f"POST /auth/login, wrong password ({label})", [
                ("POST", "/auth/login", {"email": email, "password": f"wrong {i}"}, None)], 401)
            bench.measure(f"POST /auth/signup ({label})", [
                ("POST", "/auth/signup", signup_body(email if label == "known" else f"new-{unknown}"), None)], 202)
        mailbox.deliver_queued()  # the worker's share, outside the measured requests


ENUMERATION = ("POST /auth/password/forgot", "POST /auth/login, wrong password", "POST /auth/signup")


def enrol(bench: Bench, token: str) -> None:
    """An authenticator app, which the firm's routes require of its admin. The bench's moto pool takes any code
    (it runs without MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP); each code is still taken once, so every use
    gets a code of its own."""
    bench.call("POST", "/me/mfa/totp", None, token, expect=200)
    bench.call("POST", "/me/mfa/totp/verify", {"code": "000000"}, token, expect=200)


def partner_scenario(bench: Bench, n: int, owner: str, email: str) -> None:
    """A firm's admin adds an authenticator app and signs in with its code; the firm: create it, read it (partner
    scope), invite staff through the link flow, list its staff."""
    enrol(bench, owner)
    pending = bench.measure("POST /auth/login (the code next)", [
        ("POST", "/auth/login", {"email": email, "password": PASSWORD}, None)] * n, 202)
    bench.measure("POST /auth/login/totp", [
        ("POST", "/auth/login/totp", {"session": p["session"], "code": f"{100000 + i}"}, None)
        for i, p in enumerate(pending)], 200)
    created = bench.measure("POST /partners", [("POST", "/partners", {"name": f"Firm {i}"}, owner) for i in range(n)],
                            201)
    firm = f"/partners/{created[0]['partner_id']}"
    bench.measure("GET /partners/{id}", [("GET", firm, None, owner)] * n, 200)
    bench.measure("POST /partners/{id}/staff/invitations", [
        ("POST", f"{firm}/staff/invitations", {"email": f"staff-{i}@bench.example", "role": "staff"}, owner)
        for i in range(n)], 201)
    bench.measure("GET /partners/{id}/staff/invitations", [
        ("GET", f"{firm}/staff/invitations?status=pending", None, owner)] * n, 200)


def invitation_scenario(bench: Bench, mailbox: Mailbox, n: int, owner: str, account: str, users: list[str]) -> None:
    """Invite, read the link, accept / activate / decline, resend, revoke, remove, and the sweep."""
    from chalicelib import container

    def invite(email: str, days: int = 30):
        return ("POST", f"{account}/invitations", {"email": email, "role": "collaborator", "expires_in_days": days},
                owner)

    newcomers = [f"new-{i}@bench.example" for i in range(n)]
    invited = bench.measure("POST /accounts/{id}/invitations", [invite(e) for e in users + newcomers], 201)
    links = {e: mailbox.token(e, "/i/") for e in users + newcomers}
    bench.measure("GET /invitations/{token}", [("GET", f"/invitations/{links[e]}", None, None) for e in newcomers], 200)
    bench.measure("GET /i/{token} (page)", [("GET", f"/i/{links[e]}", None, None) for e in newcomers], 200)
    logins = {e: bench.call("POST", "/auth/login", {"email": e, "password": PASSWORD}, expect=200)["access_token"]
              for e in users}
    bench.measure("POST /invitations/{token}/accept", [
        ("POST", f"/invitations/{links[e]}/accept", None, logins[e]) for e in users], 200)
    half = len(newcomers) // 2
    bench.measure("POST /invitations/{token}/activate", [
        ("POST", f"/invitations/{links[e]}/activate", {"password": PASSWORD}, None) for e in newcomers[:half]], 201)
    bench.measure("POST /invitations/{token}/decline", [
        ("POST", f"/invitations/{links[e]}/decline", None, None) for e in newcomers[half:]], 200)
    bench.measure("GET /accounts/{id}/invitations", [("GET", f"{account}/invitations?limit=50", None, owner)] * n, 200)

    later = [f"later-{i}@bench.example" for i in range(n)]
    pending = bench.measure("POST /accounts/{id}/invitations", [invite(e, days=1) for e in later], 201)
    container.clock.advance(61)  # past the resend cooldown
    bench.measure("POST .../invitations/{id}/resend", [
        ("POST", f"{account}/invitations/{p['invitation_id']}/resend", None, owner) for p in pending[:half]], 200)
    bench.measure("DELETE .../invitations/{id} (revoke)", [
        ("DELETE", f"{account}/invitations/{p['invitation_id']}", None, owner) for p in pending[half:]], 204)
    members = bench.call("GET", f"{account}/members?limit=200", None, owner, expect=200)["items"]
    removable = [m["user_id"] for m in members if m["role"] != "owner"][:n]
    bench.measure("DELETE /accounts/{id}/members/{user_id}", [
        ("DELETE", f"{account}/members/{u}", None, owner) for u in removable], 204)

    # The sweep: n invitations due at once, one run.
    bench.measure("POST /accounts/{id}/invitations", [invite(f"due-{i}@bench.example", days=1) for i in range(n)], 201)
    container.clock.advance(2 * 86400)
    bench.counter.reset()
    started = time.perf_counter()
    result = container_job("expire-invitations")
    label = f"sweep (one run, {result['expired']} expired)"
    op = bench.operations.setdefault(label, Operation(label))
    op.samples_ms.append((time.perf_counter() - started) * 1000)
    op.calls.update(bench.counter.calls)
    op.read_units += bench.counter.read_units
    op.write_units += bench.counter.write_units
    if result["expired"] < n:
        raise SystemExit(f"bench: the sweep expired {result['expired']} of {n}")
    container.clock.reset()
    del invited


def client_portal_scenario(bench: Bench, n: int, admin: str, clients: int = 100) -> None:
    """A firm's client list (one page), its CSV, and a bulk job over `clients` clients worked off the queue."""
    from dataclasses import replace

    from chalicelib import container

    firm = "/partners/" + bench.call("POST", "/partners", {"name": "Bulk firm"}, admin, expect=201)["partner_id"]
    made = bench.measure("POST /partners/{id}/clients", [
        ("POST", f"{firm}/clients", {"name": f"Client {i}", "plan": "pro",
                                     "owners": [{"email": f"client-{i}@bench.example"}]}, admin)
        for i in range(clients)], 201)
    bench.measure("GET /partners/{id}/clients (page of 50)", [("GET", f"{firm}/clients?limit=50", None, admin)] * n,
                  200)
    bench.measure("GET /partners/{id}/clients?status= (page)", [
        ("GET", f"{firm}/clients?status=not_invited&limit=50", None, admin)] * n, 200)
    bench.measure("GET /partners/{id}/clients.csv", [("GET", f"{firm}/clients.csv", None, admin)] * 2, 200)
    deps = container.deps()
    object.__setattr__(deps, "settings", replace(deps.settings, mail_send_rate=10_000.0))
    bench.measure("POST /partners/{id}/invitations/bulk", [
        ("POST", f"{firm}/invitations/bulk", {"client_ids": [c["client_id"] for c in made]}, admin)], 202)
    bench.counter.reset()
    started = time.perf_counter()
    while container_job("bulk-invitations")["messages"]:
        pass
    label = f"bulk worker, per invitation ({clients} clients)"
    op = bench.operations.setdefault(label, Operation(label))
    elapsed = (time.perf_counter() - started) * 1000
    op.samples_ms.extend([elapsed / clients] * clients)
    for key, count in bench.counter.calls.items():
        op.calls[key] += count
    op.read_units += bench.counter.read_units
    op.write_units += bench.counter.write_units


def container_job(name: str) -> dict:
    from chalicelib import container
    from chalicelib.services import bulk, jobs  # noqa: F401  (registers the queue drain)
    from chalicelib.services.invitations import expiry  # noqa: F401  (registers the job)

    return jobs.run(container.deps(), name)


ORDER = ("POST /auth/signup", "POST /auth/verify-email", "POST /auth/login", "GET /me", "POST /accounts",
         "GET /accounts/{id}", "PATCH /accounts/{id}", "GET /accounts/{id}/permissions/{action}",
         "GET /accounts/{id}/members", "GET /accounts/{id}/audit",
         "POST /accounts/{id}/invitations", "GET /invitations/{token}", "GET /i/{token} (page)",
         "POST /invitations/{token}/accept", "POST /invitations/{token}/activate",
         "POST /invitations/{token}/decline", "GET /accounts/{id}/invitations", "POST .../invitations/{id}/resend",
         "DELETE .../invitations/{id} (revoke)", "DELETE /accounts/{id}/members/{user_id}", "POST /partners",
         "GET /partners/{id}", "POST /partners/{id}/staff/invitations", "GET /partners/{id}/staff/invitations",
         "POST /partners/{id}/clients", "GET /partners/{id}/clients (page of 50)",
         "GET /partners/{id}/clients?status= (page)", "GET /partners/{id}/clients.csv",
         "POST /partners/{id}/invitations/bulk")


# --- cold import --------------------------------------------------------------------------------

_IMPORT_PROBE = (
    "import json, sys, time\n"
    "started = time.perf_counter()\n"
    "import app\n"
    "elapsed = time.perf_counter() - started\n"
    "heavy = ['boto3', 'botocore', 'pynamodb', 'jinja2', 'jwt', 'jsonschema']\n"
    "print(json.dumps({'ms': elapsed * 1000, 'loaded': [m for m in heavy if m in sys.modules]}))\n"
)


def cold_import(runs: int = 3) -> dict:
    """`import app` in fresh interpreters: the median and best time, and the heaviest direct imports."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    samples, loaded = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _IMPORT_PROBE], cwd=ROOT, env=env, capture_output=True,
                             text=True, check=True, timeout=60)
        probe = json.loads(out.stdout.strip().splitlines()[-1])
        samples.append(probe["ms"])
        loaded = probe["loaded"]
    trace = subprocess.run([sys.executable, "-X", "importtime", "-c", "import app"], cwd=ROOT, env=env,
                           capture_output=True, text=True, check=True, timeout=60).stderr
    return {"median_ms": statistics.median(samples), "best_ms": min(samples), "loaded": loaded,
            "heaviest": _direct_imports_of_app(trace)[:6]}


def _direct_imports_of_app(trace: str) -> list[tuple[str, float]]:
    """Modules `app` imports itself, by cumulative import time (from `python -X importtime`)."""
    rows = []
    for line in trace.splitlines():
        parts = line.split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2].rstrip()
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        rows.append((depth, name.strip(), int(parts[1]) / 1000))
    children = []
    for index, (depth, name, _) in enumerate(rows):
        if depth == 0 and name == "app":
            for child_depth, child, ms in reversed(rows[:index]):
                if child_depth == 0:
                    break
                if child_depth == 1:
                    children.append((child, ms))
    return sorted(children, key=lambda c: -c[1])


# --- report -------------------------------------------------------------------------------------

def _short(operation: str) -> str:
    return {"TransactWriteItems": "TransactWrite", "BatchGetItem": "BatchGet"}.get(operation, operation)


def report(operations: dict[str, Operation], bench_first: list, n: int, imports: dict, seconds: float) -> None:
    print(f"Latchkey bench: {n} requests per operation, in process on moto {moto.__version__} "
          f"(latency is this machine + moto, not AWS)\n")
    header = (f"{'operation':<40} {'ddb':>4} {'cognito':>7} {'ses':>4} {'clients':>7} {'RRU':>5} {'WRU':>5} "
              f"{'p50 ms':>7} {'p95 ms':>7} {'ddb $/1M req':>12}")
    print(header)
    print("-" * len(header))
    mails = {}
    for label in [*ORDER, *(k for k in operations if k not in ORDER)]:
        op = operations.get(label)
        if op is None or not op.n:
            continue
        rru, wru = op.read_units / op.n, op.write_units / op.n
        cost = rru * USD_PER_MILLION_READ_UNITS + wru * USD_PER_MILLION_WRITE_UNITS
        ses = op.per_request("sesv2") + op.per_request("ses")
        mails[label] = ses
        print(f"{label:<40} {op.per_request('dynamodb'):>4.1f} {op.per_request('cognito-idp'):>7.1f} {ses:>4.1f} "
              f"{op.clients_created / op.n:>7.1f} {rru:>5.1f} {wru:>5.1f} {statistics.median(op.samples_ms):>7.1f} {op.percentile(0.95):>7.1f} "
              f"{cost:>12.2f}")

    print("\nAWS calls per request, by API operation:")
    for label in [*ORDER, *(k for k in operations if k not in ORDER)]:
        op = operations.get(label)
        if op is None or not op.n:
            continue
        calls = ", ".join(f"{_short(name)} {count / op.n:g}" for (service, name), count in sorted(op.calls.items()))
        print(f"  {label:<40} {calls or '-'}")

    print("\nddb, cognito, ses: AWS calls per request. clients: botocore clients built per request (each one")
    print("parses its service model: tens of ms of CPU). RRU, WRU: DynamoDB read and write request units.")

    print(f"\nCosts: DynamoDB on demand at ${USD_PER_MILLION_READ_UNITS} per million read units and "
          f"${USD_PER_MILLION_WRITE_UNITS} per million write units (us-east-1, Standard class).")
    for label, count in mails.items():
        if count:
            print(f"  {label} also sends {count:g} mail: SES adds ${count * USD_PER_MILLION_MAILS:,.0f} per million requests.")
    print("  Cognito is billed per monthly active user, not per call.")
    print("  GET /me: the caller has two accounts. GET /audit and /members: one page (limit 50).")

    print("\nKnown against unknown email (no enumeration by timing; the same AWS calls on both branches):")
    print(f"  {'route':<40} {'known p50':>10} {'unknown p50':>12} {'difference':>11}")
    for route in ENUMERATION:
        known, unknown = operations.get(f"{route} (known)"), operations.get(f"{route} (unknown)")
        if known and unknown and known.n and unknown.n:
            a, b = statistics.median(known.samples_ms), statistics.median(unknown.samples_ms)
            print(f"  {route:<40} {a:>8.1f} ms {b:>9.1f} ms {100 * abs(a - b) / max(a, b):>10.0f}%")

    total = sum(ms for _, ms, _ in bench_first)
    print(f"\nFirst request of each kind after a fresh import (lazy imports, botocore clients, JWKS), "
          f"next to the same request warm: {total:.0f} ms in all")
    print(f"  {'request':<40} {'first ms':>9} {'warm p50':>9}  botocore clients built by the first")
    for label, ms, clients in bench_first:
        warm = operations.get(label)
        warm_ms = f"{statistics.median(warm.samples_ms):>9.1f}" if warm and warm.n else f"{'-':>9}"
        print(f"  {label:<40} {ms:>9.1f} {warm_ms}  {clients}")

    print(f"\nCold import of `app` in a fresh interpreter: median {imports['median_ms']:.0f} ms, "
          f"best {imports['best_ms']:.0f} ms")
    print(f"  heavy packages loaded by the import: {', '.join(imports['loaded']) or 'none'}")
    print("  heaviest direct imports (python -X importtime, which slows imports down itself): " + ", ".join(f"{name} {ms:.0f} ms" for name, ms in imports["heaviest"]))
    print(f"\nbench took {seconds:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", "-n", type=int, default=int(os.environ.get("BENCH_REQUESTS", "20")),
                        help="requests per operation (default 20)")
    args = parser.parse_args()
    n = max(2, args.requests)
    started = time.perf_counter()

    import logging

    logging.disable(logging.WARNING)  # refused requests would log; the figures are what matters

    counter = AwsCalls()
    counter.install()
    try:
        with moto.mock_aws():
            from chalicelib import container
            from chalicelib.adapters.provision import provision

            container.reset()
            env = provision(REGION, TABLE, MAIL_FROM)
            # Not the local stage: mail is not copied to the local outbox, so the counts are AWS's.
            env.update({"STAGE": "bench", "PUBLIC_BASE_URL": BASE_URL, "JWKS_URL": f"file://{MOTO_JWKS}",
                        "PLATFORM_REVIEWER_EMAILS": ""})
            os.environ.update(env)
            container.reset()
            deps = container.deps()
            # One client sends everything here: per-source limits would refuse the bench, not measure it.
            unlimited = 10 ** 6
            raised = ("login_failures_per_source", "login_failures_per_email", "signups_per_source_per_hour",
                      "resets_per_source_per_hour", "invitation_mails_per_recipient_per_day",
                      "accounts_per_user_per_day")
            known = {f.name for f in dataclasses.fields(deps.settings)}
            deps.settings = dataclasses.replace(deps.settings, **{k: unlimited for k in raised if k in known})
            mailbox = Mailbox(deps.mailer, deps)
            try:
                deps.mailer = mailbox
            except dataclasses.FrozenInstanceError:
                object.__setattr__(deps, "mailer", mailbox)

            from chalice.test import Client

            import app as app_module

            # A stage .chalice/config.json does not name: it adds no environment of its own.
            with Client(app_module.app, stage_name="bench", project_dir=str(ROOT)) as client:
                bench = Bench(client, counter)
                scenario(bench, mailbox, n)
            container.reset()
    finally:
        counter.uninstall()
    imports = cold_import()
    report(bench.operations, bench.first_requests, n, imports, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
