"""The OpenAPI 3.1 document, generated from the route declarations and their body schemas."""
from __future__ import annotations

import re

from ..domain.permissions import MEMBER_ROLES
from .errors import STATUS
from .http import ROUTES

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}}}}}

_QUERY = {
    "limit": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
    "cursor": {"type": "string", "maxLength": 1024},
    "to": {"type": "string", "maxLength": 320},
    "status": {"type": "string"},
    "role": {"type": "string", "enum": list(MEMBER_ROLES)},
}


def _operation(spec) -> dict:
    params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string", "maxLength": 200}}
              for n in re.findall(r"{(\w+)}", spec.path)]
    params += [{"name": n, "in": "query", "required": False, "schema": _QUERY.get(n, {"type": "string"})}
               for n in spec.query]
    if spec.status == 204:
        ok = {"description": "Done"}
    elif spec.produces == "application/json":
        ok = {"description": "Success", "content": {"application/json": {"schema": {"type": "object"}}}}
    else:
        ok = {"description": "Success", "content": {spec.produces: {"schema": {"type": "string"}}}}
    responses = {str(spec.status): ok}
    codes = {400} if spec.body is not None or spec.query else set()
    kind = spec.scope.kind
    if spec.scope.needs_token:
        codes.add(401)
    if kind in ("account", "partner"):
        codes |= {403, 404}
    if kind == "reviewer":
        codes.add(403)
    if kind == "local_only":
        codes.add(404)
    for code in sorted(codes):
        responses[str(code)] = {"description": next(k for k, v in STATUS.items() if v == code),
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    op = {"operationId": f"{spec.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', spec.path.lower()).strip('_')}",
          "summary": spec.summary, "tags": [spec.tag], "parameters": params, "responses": responses,
          "x-scope": spec.scope.kind, "x-dynamodb-budget": str(spec.budget)}
    if spec.scope.actions:
        op["x-permissions"] = sorted(spec.scope.actions)
    if spec.scope.needs_token:
        op["security"] = [{"bearer": []}]
    if spec.body is not None:
        media = spec.content_types[0]
        op["requestBody"] = {"required": True, "content": {media: {"schema": spec.body}}}
    return op


def document() -> dict:
    paths: dict = {}
    for spec in ROUTES:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Latchkey", "version": "1.0.0",
                 "description": "Invitations, memberships and access for shared financial accounts."},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": {"Error": ERROR},
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }
