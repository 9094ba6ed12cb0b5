"""boto3 clients, built lazily and cached: importing the app stays cheap and tests can swap them."""
from __future__ import annotations

import threading
from functools import lru_cache

_lock = threading.Lock()
_session: list = []  # the one boto3 session of the process, once built


@lru_cache(maxsize=None)
def client(service: str, region: str, endpoint_url: str | None = None):
    # boto3 takes ~100 ms to import: only the first request that talks to AWS pays for it. Every client comes from
    # one session, so the SDK's endpoint and partition data are read once per process, not once per client
    # (a session is not thread-safe; building clients under the lock is).
    import boto3

    with _lock:
        if not _session:
            _session.append(boto3.session.Session())
        return _session[0].client(service, region_name=region, endpoint_url=endpoint_url or None)


def reset() -> None:
    """Forget cached clients and the session (tests that start a new mock)."""
    with _lock:
        client.cache_clear()
        _session.clear()
