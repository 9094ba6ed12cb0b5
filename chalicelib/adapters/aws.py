"""boto3 clients, built lazily and cached: importing the app stays cheap and tests can swap them."""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=None)
def client(service: str, region: str, endpoint_url: str | None = None):
    # boto3 takes ~100 ms to import: only the first request that talks to AWS pays for it.
    import boto3

    return boto3.session.Session().client(service, region_name=region, endpoint_url=endpoint_url or None)


def reset() -> None:
    """Forget cached clients (tests that start a new mock)."""
    client.cache_clear()
