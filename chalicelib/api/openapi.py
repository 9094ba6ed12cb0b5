"""The OpenAPI 3.1 document, generated from the route declarations: request bodies, success bodies
(api/responses.py), the error envelope with the codes each status can carry, and the headers that matter."""
from __future__ import annotations

import re

from ..domain.applications import REVIEW_STATUSES
from ..domain.clients import ACTIVATION_STATUSES
from ..domain.invitations import STATUSES as INVITATION_STATUSES
from ..domain.permissions import MEMBER_ROLES
from . import responses
from .errors import STATUS
from .http import ROUTES

_CODES: dict[int, list[str]] = {}
for _code, _status in STATUS.items():
    _CODES.setdefault(_status, []).append(_code)

_LIMIT = {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}
_QUERY = {
    "limit": _LIMIT,
    "cursor": {"type": "string", "maxLength": 1024},
    "to": {"type": "string", "maxLength": 320},
    "role": {"type": "string", "enum": list(MEMBER_ROLES)},
    "staff": {"type": "string", "maxLength": 64},
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds until the next attempt is allowed",
                                "schema": {"type": "integer", "minimum": 1}}}
_ERROR_DESCRIPTIONS = {400: "The request is not valid", 401: "Sign in first", 403: "Not allowed",
                       404: "Not found (or not visible to the caller)", 409: "Conflicts with the current state",
                       410: "The link was valid once and is not any more", 415: "Unsupported media type",
                       422: "The Idempotency-Key was used with another body", 429: "Too many attempts",
                       500: "Something went wrong on our side"}


def _status_values(path: str) -> list[str]:
    if path.startswith("/reviews"):
        return list(REVIEW_STATUSES)
    if "/clients" in path:
        return list(ACTIVATION_STATUSES)
    return list(INVITATION_STATUSES)


def _query_schema(name: str, path: str) -> dict:
    if name == "status":
        return {"type": "string", "enum": _status_values(path)}
    return _QUERY.get(name, {"type": "string"})


def _error(status: int) -> dict:
    return {"allOf": [{"$ref": "#/components/schemas/Error"},
                      {"properties": {"error": {"properties": {"code": {"enum": sorted(_CODES[status])}}}}}]}


def _error_statuses(spec) -> set[int]:
    codes = {500}
    if spec.body is not None or spec.query or "{" in spec.path:
        codes.add(400)
    if spec.body is not None:
        codes.add(415)
    kind = spec.scope.kind
    if spec.scope.needs_token:
        codes.add(401)
    if kind in ("account", "partner"):
        codes |= {403, 404}
    if kind == "reviewer":
        codes |= {403, 404}
    if kind == "local_only" or "{" in spec.path:
        codes.add(404)
    if spec.method in ("POST", "PUT", "PATCH", "DELETE"):
        codes |= {409, 429}
    if spec.path.startswith(("/invitations/{token}", "/i/{token}", "/me/invitations")):
        codes |= {403, 404, 410, 429}
    if spec.path.startswith("/auth/"):
        codes |= {401, 403, 404, 429}
    if spec.path.startswith("/i/{token}/signin"):
        codes.add(401)  # a wrong password, or a sign-in that waited too long for its code: the landing page again
    if spec.path.startswith("/me/mfa"):
        codes.add(403)  # mfa_required: a partner role keeps the authenticator app on
    if spec.method == "POST" and spec.status in (201, 202) and spec.produces == "application/json":
        codes |= {409, 422}
    return codes


def _operation(spec) -> dict:
    params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string", "maxLength": 200}}
              for n in re.findall(r"{(\w+)}", spec.path)]
    params += [{"name": n, "in": "query", "required": False, "schema": _query_schema(n, spec.path)}
               for n in spec.query]
    if spec.method == "POST" and spec.status in (201, 202) and spec.produces == "application/json":
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "description": "The same key and body within 24 h answer the first response again",
                       "schema": {"type": "string", "minLength": 1, "maxLength": 255}})
    if spec.status == 204:
        ok = {"description": "Done"}
    elif spec.produces == "application/json":
        schema = responses.schema_for(spec.method, spec.path) or {"type": "object"}
        ok = {"description": "Success", "content": {"application/json": {"schema": schema}}}
    else:
        ok = {"description": "Success", "content": {spec.produces: {"schema": {"type": "string"}}}}
    answers = {str(spec.status): ok}
    for status, name in responses.OTHER_SUCCESSES.get((spec.method, spec.path), {}).items():
        answers[str(status)] = {"description": "Success, one more step",
                                "content": {"application/json": {"schema": responses.ref(name)}}}
    if spec.path.endswith("clients.csv"):
        answers["303"] = {"description": "Too large for one response: a short-lived link to the same file",
                          "headers": {"Location": {"schema": {"type": "string"}}}}
    for status in sorted(_error_statuses(spec)):
        # A page answers its refusals with a page; the JSON routes with the error envelope.
        content = ({"text/html": {"schema": {"type": "string"}}} if spec.produces == "text/html"
                   else {"application/json": {"schema": _error(status)}})
        answer = {"description": _ERROR_DESCRIPTIONS[status], "content": content}
        if status == 429:
            answer["headers"] = _RETRY_AFTER
        answers[str(status)] = answer
    op = {"operationId": _camel(spec.operation), "summary": spec.summary, "tags": [spec.tag], "parameters": params,
          "responses": answers, "x-scope": spec.scope.kind, "x-dynamodb-budget": str(spec.budget)}
    if spec.scope.actions:
        op["x-permissions"] = sorted(spec.scope.actions)
    if spec.scope.needs_token:
        op["security"] = [{"bearer": []}]
    if spec.body is not None:
        op["requestBody"] = {"required": True, "content": {spec.content_types[0]: {"schema": spec.body}}}
    return op


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


ERROR = {"type": "object", "required": ["error"], "additionalProperties": False, "properties": {"error": {
    "type": "object", "required": ["code", "message"], "additionalProperties": False,
    "properties": {"code": {"type": "string", "enum": sorted(STATUS)}, "message": {"type": "string"},
                   "details": {"type": "object"}}}}}


def document(local: bool = False) -> dict:
    """The whole API; the local stage's own routes only in the local stage's document."""
    paths: dict = {}
    for spec in ROUTES:
        if spec.scope.kind == "local_only" and not local:
            continue
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Latchkey", "version": "1.0.0",
                 "description": "Invitations, memberships and access for shared financial accounts."},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": {"Error": ERROR, **responses.COMPONENTS},
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }
