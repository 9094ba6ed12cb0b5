"""The `endpoint` decorator: every route declares who may call it, and gets the checks in the contract's order.

Order: authenticate (401) -> authorize (404 stranger, 403 member) -> validate the body (400) -> the service.
Chalice does not pass view exceptions to middleware, so errors are mapped here.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from chalice import Response

from .. import container
from ..domain.errors import DomainError, Unauthenticated
from ..services import access
from ..services.principal import Principal
from . import errors, validation

log = logging.getLogger("latchkey.api")

# Permission declarations that are not account actions.
PUBLIC = "public"  # anyone, no token
AUTHENTICATED = "authenticated"  # any signed-in user, no account involved
LOCAL_ONLY = "local_only"  # local stage tooling


@dataclass
class RouteSpec:
    method: str
    path: str
    permission: str | frozenset
    summary: str
    body: dict | None = None
    status: int = 200
    tag: str = "misc"
    query: tuple = ()
    produces: str = "application/json"
    content_types: tuple = ("application/json",)


ROUTES: list[RouteSpec] = []

# Chalice refuses content types a route does not list with its own 415 body; routes list these common ones
# so that the refusal comes from here, in the contract's error envelope.
_ACCEPTED_BY_CHALICE = ["application/json", "application/x-www-form-urlencoded", "text/plain", "text/html",
                        "text/xml", "application/xml", "text/csv", "application/javascript"]


@dataclass
class Call:
    """What a view gets: the verified caller, the access context, the checked body and the parameters."""

    request: Any
    params: dict
    principal: Principal | None = None
    ctx: access.AccessContext | None = None
    body: dict = field(default_factory=dict)

    @property
    def deps(self):
        return container.deps()

    @property
    def query(self) -> dict:
        return self.request.query_params or {}

    @property
    def source_ip(self) -> str | None:
        return (self.request.context or {}).get("identity", {}).get("sourceIp")


def bearer_token(request) -> str:
    header = (request.headers or {}).get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 8192:
        raise Unauthenticated()
    return token.strip()


def authenticate(call: Call) -> Principal:
    return container.verifier().verify(bearer_token(call.request), call.source_ip)


def json_response(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(body=body, status_code=status,
                    headers={"Content-Type": "application/json", **errors.SECURITY_HEADERS, **(headers or {})})


def endpoint(bp, path: str, method: str, *, permission: str | frozenset, summary: str, body: dict | None = None,
             status: int = 200, tag: str = "misc", query: tuple = (), produces: str = "application/json",
             content_types: tuple = ("application/json",)) -> Callable:
    """Register a Chalice route with its declared permission (the route-inventory test reads ROUTES)."""
    spec = RouteSpec(method, path, permission, summary, body, status, tag, query, produces, content_types)
    ROUTES.append(spec)

    def wrap(fn: Callable) -> Callable:
        @bp.route(path, methods=[method], content_types=sorted(set(_ACCEPTED_BY_CHALICE) | set(content_types)))
        @functools.wraps(fn)
        def view(**params):
            request = bp.current_request
            try:
                if permission == LOCAL_ONLY and not container.config().is_local:
                    return errors.error_response("not_found", "Not found.")
                call = Call(request=request, params=params)
                media = ((request.headers or {}).get("content-type") or content_types[0]).split(";")[0].strip().lower()
                if request.raw_body and media not in content_types:
                    return errors.error_response("unsupported_media_type",
                                                 f"Send the body as {content_types[0]}.")
                if permission not in (PUBLIC, LOCAL_ONLY):
                    call.principal = authenticate(call)
                if permission not in (PUBLIC, LOCAL_ONLY, AUTHENTICATED):
                    call.ctx = access.authorize(call.deps, call.principal, params["account_id"], permission)
                if body is not None:
                    raw = validation.parse_json(request.raw_body) if "json" in content_types[0] else {}
                    call.body = validation.validate(raw, body)
                result = fn(call)
            except DomainError as exc:
                return errors.from_domain(exc)
            except Exception:
                # The route pattern, never the concrete path: paths can hold link tokens.
                log.exception("unhandled error on %s %s", method, path)
                return errors.error_response("internal_error", "Something went wrong on our side. Try again.")
            if isinstance(result, Response):
                result.headers = {**errors.SECURITY_HEADERS, **(result.headers or {})}
                return result
            if result is None:
                return Response(body="", status_code=204, headers=dict(errors.SECURITY_HEADERS))
            return json_response(result, status)

        return view

    return wrap
