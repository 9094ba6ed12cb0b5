"""Health and the API document."""
from __future__ import annotations

from chalice import Blueprint

from .budgets import NONE
from .http import PUBLIC, endpoint

bp = Blueprint(__name__)


@endpoint(bp, "/health", "GET", scope=PUBLIC, budget=NONE, tag="meta", summary="Liveness")
def health(call):
    return {"status": "ok"}


@endpoint(bp, "/openapi.json", "GET", scope=PUBLIC, budget=NONE, tag="meta", summary="This API as OpenAPI 3.1")
def openapi(call):
    from .. import container
    from .openapi import document

    return document(local=container.config().is_local)
