"""The `endpoint` decorator: every route declares its scope and DynamoDB budget, and gets the checks in the
contract's order.

Order: authenticate (401) -> authorize by scope (404 stranger, 403 member) -> the route's own permission
check on what the body asks for, if it has one (403) -> validate the body (400) -> the service. A caller who
may not act learns nothing about the body's shape. Chalice does not pass view exceptions to middleware, so errors are mapped here.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from chalice import Response

from .. import container, logs
from ..domain.errors import DomainError, Unauthenticated
from ..domain.scopes import AUTHENTICATED, LOCAL_ONLY, PUBLIC, REVIEWER, Scope  # noqa: F401 (re-exported)
from ..services import access
from ..services.principal import Principal
from . import errors, idempotency, validation
from .budgets import Budget

log = logging.getLogger("chalicelib.api")


@dataclass
class RouteSpec:
    method: str
    path: str
    scope: Scope
    summary: str
    budget: Budget
    body: dict | None = None
    status: int = 200
    tag: str = "misc"
    query: tuple = ()
    produces: str = "application/json"
    content_types: tuple = ("application/json",)
    operation: str = ""  # the view's name: the operationId of the OpenAPI document
    preauthorize: Callable | None = None
    looks_up: str | None = None  # a body field holding an address the authorization read looks up too


ROUTES: list[RouteSpec] = []

# Chalice refuses content types a route does not list with its own 415 body; routes list these common ones
# so that the refusal comes from here, in the contract's error envelope.
# (None of Chalice's binary types: `chalice deploy` refuses a route that mixes binary and text types. Those are
# refused by Chalice before the view, and `framework_errors` below puts that refusal in the envelope.)
_ACCEPTED_BY_CHALICE = ["application/json", "application/x-www-form-urlencoded", "text/plain", "text/html",
                        "text/xml", "application/xml", "text/csv", "application/javascript", "multipart/form-data"]


@dataclass
class Call:
    """What a view gets: the verified caller, the access context of its scope, the checked body, the parameters."""

    request: Any
    params: dict
    principal: Principal | None = None
    ctx: Any = None  # access.UserAccess | AccountAccess | PartnerAccess, by the route's scope
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


def _stored(result: Any, status: int) -> dict:
    """A creating route's answer in the form an idempotency record keeps."""
    return {"status": status, "body": result}


def _once(call: Call, key: str, work, lambda_context=None) -> Response:
    caller = call.principal.user_id if call.principal else f"anonymous:{call.source_ip}"
    path = call.request.context.get("resourcePath", "") if call.request.context else ""
    concrete = path.format(**call.params) if path else repr(sorted(call.params.items()))
    stored, replayed = idempotency.run_once(caller, call.request.method, concrete, key, call.body, work,
                                            lambda_context)
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return json_response(stored["body"], stored["status"], headers)


def _address_in(raw_body, name: str) -> str | None:
    """The normalised address in a body's field, if the body is a JSON object and the field an address."""
    from ..domain.emails import is_valid_email, normalize_email

    try:
        value = validation.parse_json(raw_body).get(name)
    except DomainError:
        return None
    if not isinstance(value, str) or len(value) > 320:
        return None
    email = normalize_email(value)
    return email if is_valid_email(email) else None


def _request_id(bp, request) -> str | None:
    context = getattr(bp, "lambda_context", None)
    return getattr(context, "aws_request_id", None) or (request.context or {}).get("requestId")


def endpoint(bp, path: str, method: str, *, scope: Scope, summary: str, budget: Budget, body: dict | None = None,
             status: int = 200, tag: str = "misc", query: tuple = (), produces: str = "application/json",
             content_types: tuple = ("application/json",), preauthorize: Callable | None = None,
             looks_up: str | None = None) -> Callable:
    """Register a Chalice route with its scope and budget (the route-inventory and budget tests read ROUTES).

    `preauthorize(call, raw_body)`: where the permission depends on the body (the role invited, the field
    groups changed), it refuses with 403 before the body is validated.
    `looks_up`: a body field with an email address (the person invited) that the read which authorizes the
    route looks up on the way, whether it has a user; no call of its own (the service reads the answer from
    the access context). A body that does not parse or a field that is not an address looks up nothing."""
    spec = RouteSpec(method, path, scope, summary, budget, body, status, tag, query, produces, content_types,
                     preauthorize, looks_up=looks_up)
    ROUTES.append(spec)
    creates = method == "POST" and status in (201, 202) and produces == "application/json"  # Idempotency-Key

    def wrap(fn: Callable) -> Callable:
        spec.operation = fn.__name__

        @bp.route(path, methods=[method], content_types=sorted(set(_ACCEPTED_BY_CHALICE) | set(content_types)))
        @functools.wraps(fn)
        def view(**params):
            request = bp.current_request
            logs.start_request(_request_id(bp, request))
            try:
                if scope == LOCAL_ONLY and not container.config().is_local:
                    return errors.error_response("not_found", "Not found.")
                call = Call(request=request, params=params)
                if scope.needs_token:
                    call.principal = authenticate(call)
                call.ctx = access.authorize(call.deps, scope, call.principal, params,
                                            _address_in(request.raw_body, looks_up) if looks_up else None)
                # The body's media type is a check of the body: after 401 and 404/403, as the contract orders.
                media = ((request.headers or {}).get("content-type") or content_types[0]).split(";")[0].strip().lower()
                if request.raw_body and media not in content_types:
                    return errors.error_response("unsupported_media_type", f"Send the body as {content_types[0]}.")
                if body is not None:
                    raw: Any = {}
                    if "json" in content_types[0]:
                        try:
                            raw = validation.parse_json(request.raw_body)
                        except DomainError:
                            if preauthorize is None:
                                raise
                            raw = None  # not JSON: nothing to pre-check; validation answers 400 next
                    if preauthorize is not None:
                        preauthorize(call, raw if isinstance(raw, dict) else {})
                    if raw is None:
                        raw = validation.parse_json(request.raw_body)
                    call.body = validation.validate(raw, body)
                key = idempotency.key_of(request.headers) if creates else None
                if key is not None:
                    return _once(call, key, lambda: _stored(fn(call), status), getattr(bp, "lambda_context", None))
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



# The framework's own refusals, made before any view runs, and the contract's words for them.
_FRAMEWORK_ERRORS = {"UnsupportedMediaType": ("unsupported_media_type", "The body's media type is not accepted here."),
                     "MethodNotAllowedError": ("method_not_allowed", "This method is not allowed here."),
                     "BadRequestError": ("invalid_json", "The request could not be read.")}


def framework_errors(event, get_response):
    """An HTTP middleware: what Chalice answers itself (a media type no route lists, a wrong method) leaves in
    the contract's error envelope, as in `chalice local` (scripts/chalice_local.py), nothing echoed."""
    response = get_response(event)
    body = response.body if isinstance(response.body, dict) else None
    if response.status_code >= 400 and body and set(body) == {"Code", "Message"} and body["Code"] in _FRAMEWORK_ERRORS:
        code, message = _FRAMEWORK_ERRORS[body["Code"]]
        allow = {k: v for k, v in (response.headers or {}).items() if k.lower() == "allow"}
        return errors.error_response(code, message, headers=allow)
    return response
