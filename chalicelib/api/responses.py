"""What every route answers: a JSON Schema per successful response, kept here beside the route list.

The OpenAPI document publishes them; the API tests validate every JSON response they receive against the
schema of its route and status (tests/conftest.py), so the document cannot drift from what is served.
"""
from __future__ import annotations

from ..domain.applications import STATUSES as APPLICATION_STATUSES
from ..domain.clients import ACTIVATION_STATUSES
from ..domain.invitations import DELIVERY_STATUSES, STATUSES as INVITATION_STATUSES
from ..domain.jobs import RESULT_STATUSES
from ..domain.permissions import MEMBER_ROLES, PARTNER_ROLES

S = {"type": "string"}
S_OR_NULL = {"type": ["string", "null"]}
WHEN = {"type": ["string", "null"], "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"}
BOOL = {"type": "boolean"}
INT = {"type": "integer"}
STRINGS = {"type": "array", "items": S}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def closed(properties: dict, optional: tuple = ()) -> dict:
    """An object with exactly these properties (all required but `optional`)."""
    return {"type": "object", "properties": properties, "additionalProperties": False,
            "required": [k for k in properties if k not in optional]}


def page(item: str) -> dict:
    return closed({"items": {"type": "array", "items": ref(item)}, "next_cursor": S_OR_NULL})


ACTOR = {"type": "object", "properties": {"user_id": S_OR_NULL, "email": S_OR_NULL, "system": BOOL,
                                          "acting_for": closed({"partner_id": S})},
         "required": ["user_id", "email"], "additionalProperties": False}

COMPONENTS: dict[str, dict] = {
    "Status": closed({"status": S}),
    "Tokens": closed({"access_token": S, "refresh_token": S_OR_NULL, "expires_in": INT,
                      "token_type": {"const": "Bearer"}}),
    "RefreshedTokens": closed({"access_token": S, "expires_in": INT, "token_type": {"const": "Bearer"}}),
    "SignInChallenge": closed({"challenge": {"const": "totp"}, "session": S, "expires_in": INT}),
    "TotpSecret": closed({"secret": S, "otpauth_uri": {"type": "string", "pattern": "^otpauth://totp/"}}),
    "Mfa": closed({"totp_enabled": BOOL, "required": BOOL, "recovery_codes_left": INT,
                   "recovery_codes": {"type": "array", "items": {"type": "string", "pattern": "^[A-Z2-7]{5}-[A-Z2-7]{5}$"},
                                      "description": "Shown once, when the app is confirmed"}},
                  optional=("recovery_codes",)),
    "RecoveryCodes": closed({"recovery_codes": {"type": "array", "items": {
        "type": "string", "pattern": "^[A-Z2-7]{5}-[A-Z2-7]{5}$"}}, "recovery_codes_left": INT}),
    "User": closed({"user_id": S, "email": S, "first_name": S, "last_name": S, "last_login_at": WHEN,
                    "mfa_enabled": BOOL, "mfa_required": BOOL, "recovery_codes_left": INT}),
    "Me": closed({
        "user": ref("User"),
        "accounts": {"type": "array", "items": closed({
            "account_id": S, "name": S, "type": S, "role": {"enum": list(MEMBER_ROLES)}, "status": S,
            "account_status": S, "own": BOOL, "permissions": STRINGS})},
        "partners": {"type": "array", "items": closed({"partner_id": S, "name": S,
                                                      "role": {"enum": list(PARTNER_ROLES)}})},
        "pending_invitations": {"type": "array", "items": closed({
            "invitation_id": S, "account_id": S_OR_NULL, "account_name": S_OR_NULL, "partner_id": S_OR_NULL,
            "partner_name": S_OR_NULL, "target_type": {"enum": ["account", "partner"]}, "inviter_name": S,
            "role": S, "expires_at": WHEN})}}),
    "Owner": closed({"user_id": S, "email": S, "first_name": S, "last_name": S, "phone": S_OR_NULL}, ("phone",)),
    "Account": closed({
        "account_id": S, "name": S, "type": {"enum": ["personal", "business", "client"]}, "plan": S,
        "status": {"enum": ["active", "closed"]}, "owners": {"type": "array", "items": ref("Owner")},
        "partner_id": S_OR_NULL, "logo_url": S_OR_NULL, "created_at": WHEN, "my_role": {"enum": list(MEMBER_ROLES)},
        "my_status": S, "my_permissions": STRINGS, "business_info": {"type": "object"}}, ("business_info",)),
    "Permissions": closed({"role": S, "status": S, "permissions": STRINGS}),
    "PermissionCheck": closed({"action": S, "allowed": BOOL}),
    "Member": closed({"user_id": S, "email": S, "first_name": S, "last_name": S, "role": {"enum": list(MEMBER_ROLES)},
                      "status": S, "joined_at": WHEN, "last_login_at": WHEN}),
    "AuditEvent": closed({"event_id": S, "at": WHEN, "action": S, "actor": ACTOR,
                          "target": closed({"type": S, "id": S}), "details": {"type": "object"},
                          "acting_for": closed({"partner_id": S})}, ("acting_for",)),
    "Invitation": closed({
        "invitation_id": S, "account_id": S_OR_NULL, "partner_id": S_OR_NULL, "email": S, "role": S,
        "first_name": S_OR_NULL, "last_name": S_OR_NULL, "status": {"enum": list(INVITATION_STATUSES)},
        "delivery_status": {"enum": list(DELIVERY_STATUSES)}, "invited_by": closed({"user_id": S, "name": S}),
        "created_at": WHEN, "last_sent_at": WHEN, "send_count": INT, "expires_at": WHEN, "responded_at": WHEN,
        "form_id": S_OR_NULL, "message": S_OR_NULL}),
    "LinkView": closed({"account_name": S_OR_NULL, "partner_name": S_OR_NULL, "inviter_name": S, "role": S,
                        "email": S, "status": {"enum": list(INVITATION_STATUSES)}, "expires_at": WHEN,
                        "existing_user": BOOL}),
    "Accepted": closed({"account_id": S_OR_NULL, "partner_id": S_OR_NULL, "role": S, "status": S}),
    "Activated": closed({"access_token": S, "refresh_token": S_OR_NULL, "expires_in": INT,
                         "token_type": {"const": "Bearer"}, "account_id": S_OR_NULL, "partner_id": S_OR_NULL}),
    "Application": closed({
        "account_id": S, "user_id": S, "email": S, "status": {"enum": ["required", *APPLICATION_STATUSES]},
        "member_status": S_OR_NULL, "legal_first_name": S_OR_NULL, "legal_last_name": S_OR_NULL,
        "date_of_birth": S_OR_NULL, "phone": S_OR_NULL, "title": S_OR_NULL,
        "address": {"type": ["object", "null"]}, "submitted_at": WHEN, "decided_at": WHEN, "reason": S_OR_NULL}),
    "Submitted": closed({"account_id": S, "user_id": S, "status": {"const": "in_review"},
                         "member_status": {"const": "in_review"}, "submitted_at": WHEN}),
    "ReviewEntry": closed({"account_id": S, "account_name": S, "user_id": S, "email": S,
                           "legal_first_name": S_OR_NULL, "legal_last_name": S_OR_NULL, "status": S,
                           "submitted_at": WHEN, "decided_at": WHEN}),
    "Decision": closed({"account_id": S, "user_id": S, "status": {"enum": ["approved", "rejected"]},
                        "role": {"enum": ["authorized_user", "admin"]}, "member_status": {"const": "active"},
                        "reason": S_OR_NULL}, ("reason",)),
    "Partner": closed({"partner_id": S, "name": S, "created_at": WHEN, "my_role": {"enum": list(PARTNER_ROLES)},
                       "my_permissions": STRINGS}),
    "Staff": closed({"user_id": S, "email": S, "first_name": S, "last_name": S, "role": {"enum": list(PARTNER_ROLES)},
                     "joined_at": WHEN, "mfa_enabled": BOOL}),
    "Client": closed({
        "client_id": S, "partner_id": S, "name": S, "plan": S,
        "assigned_staff": {"type": "array", "items": closed({"user_id": S, "name": S})},
        "preliminary_data": {"type": "object"},
        "owners": {"type": "array", "items": closed({
            "email": S, "first_name": S, "last_name": S, "user_id": S_OR_NULL,
            "activation_status": {"enum": list(ACTIVATION_STATUSES)}, "invitation_id": S_OR_NULL,
            "invited_at": WHEN, "expires_at": WHEN, "last_login_at": WHEN})},
        "created_at": WHEN}),
    "OwnerResults": closed({"results": {"type": "array", "items": closed({
        "email": S, "invitation_id": S_OR_NULL, "status": {"enum": list(RESULT_STATUSES)}, "error": S_OR_NULL})}}),
    "Job": closed({
        "job_id": S, "partner_id": S, "status": {"enum": ["queued", "running", "done"]}, "total": INT,
        "succeeded": INT, "failed": INT, "form_id": S_OR_NULL, "created_at": WHEN,
        "results": {"type": "array", "items": closed({"client_id": S, "email": S, "invitation_id": S_OR_NULL,
                                                      "status": {"enum": list(RESULT_STATUSES)},
                                                      "error": S_OR_NULL})},
        "next_cursor": S_OR_NULL}, ("results", "next_cursor")),
    "Form": closed({"form_id": S, "partner_id": S, "title": S, "fields": {"type": "array", "items": {"type": "object"}},
                    "created_at": WHEN}),
    "FormResponse": closed({"form_id": S, "account_id": S, "answers": {"type": "object"}, "submitted_at": WHEN,
                            "submitted_by": {"type": "object"}}),
    "Health": closed({"status": {"const": "ok"}}),
    "OpenAPI": {"type": "object", "required": ["openapi", "paths"]},
    "Outbox": closed({"items": {"type": "array", "items": closed({
        "message_id": S, "to": STRINGS, "subject": S, "text": S, "html": S, "links": STRINGS, "sent_at": WHEN})}}),
    "Clock": closed({"now": WHEN}),
    "JobRun": closed({"job": S, "result": {"type": "object"}}),
    "MailEventResult": closed({"event": {"type": "object"}, "result": {"type": "object"}}),
}
for _name in ("Member", "AuditEvent", "Invitation", "ReviewEntry", "Staff", "Client", "Form"):
    COMPONENTS[f"{_name}Page"] = page(_name)

# (method, path) -> the component its success answers with (204s and non-JSON pages have none).
RESPONSES: dict[tuple[str, str], str] = {
    ("GET", "/health"): "Health", ("GET", "/openapi.json"): "OpenAPI",
    ("POST", "/auth/signup"): "Status", ("POST", "/auth/verify-email"): "Status", ("POST", "/auth/login"): "Tokens",
    ("POST", "/auth/refresh"): "RefreshedTokens", ("POST", "/auth/password/forgot"): "Status",
    ("POST", "/auth/password/reset"): "Status", ("GET", "/me"): "Me",
    ("POST", "/auth/login/totp"): "Tokens", ("POST", "/me/mfa/totp"): "TotpSecret",
    ("POST", "/me/mfa/totp/verify"): "Mfa", ("POST", "/auth/login/recovery"): "Tokens",
    ("POST", "/me/mfa/recovery-codes"): "RecoveryCodes", ("GET", "/me/audit"): "AuditEventPage",
    ("POST", "/accounts"): "Account", ("GET", "/accounts/{account_id}"): "Account",
    ("PATCH", "/accounts/{account_id}"): "Account", ("GET", "/accounts/{account_id}/permissions"): "Permissions",
    ("GET", "/accounts/{account_id}/permissions/{action}"): "PermissionCheck",
    ("GET", "/accounts/{account_id}/members"): "MemberPage", ("PATCH", "/accounts/{account_id}/members/{user_id}"): "Member",
    ("GET", "/accounts/{account_id}/audit"): "AuditEventPage",
    ("PUT", "/accounts/{account_id}/members/me/application"): "Application",
    ("GET", "/accounts/{account_id}/members/me/application"): "Application",
    ("POST", "/accounts/{account_id}/members/me/application/submit"): "Submitted",
    ("GET", "/accounts/{account_id}/members/{user_id}/application"): "Application",
    ("GET", "/reviews/applications"): "ReviewEntryPage",
    ("GET", "/reviews/applications/{account_id}/{user_id}"): "Application",
    ("POST", "/reviews/applications/{account_id}/{user_id}/approve"): "Decision",
    ("POST", "/reviews/applications/{account_id}/{user_id}/reject"): "Decision",
    ("POST", "/accounts/{account_id}/invitations"): "Invitation",
    ("GET", "/accounts/{account_id}/invitations"): "InvitationPage",
    ("GET", "/accounts/{account_id}/invitations/{invitation_id}"): "Invitation",
    ("POST", "/accounts/{account_id}/invitations/{invitation_id}/resend"): "Invitation",
    ("GET", "/invitations/{token}"): "LinkView", ("POST", "/invitations/{token}/accept"): "Accepted",
    ("POST", "/me/invitations/{invitation_id}/accept"): "Accepted",
    ("POST", "/me/invitations/{invitation_id}/decline"): "Status", ("POST", "/invitations/{token}/decline"): "Status",
    ("POST", "/invitations/{token}/activate"): "Activated",
    ("POST", "/partners"): "Partner", ("GET", "/partners/{partner_id}"): "Partner",
    ("GET", "/partners/{partner_id}/staff"): "StaffPage",
    ("POST", "/partners/{partner_id}/staff/invitations"): "Invitation",
    ("GET", "/partners/{partner_id}/staff/invitations"): "InvitationPage",
    ("GET", "/partners/{partner_id}/staff/invitations/{invitation_id}"): "Invitation",
    ("POST", "/partners/{partner_id}/staff/invitations/{invitation_id}/resend"): "Invitation",
    ("GET", "/partners/{partner_id}/audit"): "AuditEventPage",
    ("POST", "/partners/{partner_id}/clients"): "Client", ("GET", "/partners/{partner_id}/clients"): "ClientPage",
    ("GET", "/partners/{partner_id}/clients/{client_id}"): "Client",
    ("PATCH", "/partners/{partner_id}/clients/{client_id}"): "Client",
    ("POST", "/partners/{partner_id}/clients/{client_id}/invitations"): "OwnerResults",
    ("POST", "/partners/{partner_id}/clients/{client_id}/invitations/{invitation_id}/resend"): "Invitation",
    ("POST", "/partners/{partner_id}/clients/{client_id}/guests"): "Invitation",
    ("POST", "/partners/{partner_id}/invitations/bulk"): "Job", ("GET", "/partners/{partner_id}/jobs/{job_id}"): "Job",
    ("POST", "/partners/{partner_id}/forms"): "Form", ("GET", "/partners/{partner_id}/forms"): "FormPage",
    ("GET", "/accounts/{account_id}/forms/{form_id}"): "Form",
    ("POST", "/accounts/{account_id}/forms/{form_id}/response"): "FormResponse",
    ("GET", "/partners/{partner_id}/clients/{client_id}/forms/{form_id}/response"): "FormResponse",
    ("GET", "/_dev/outbox"): "Outbox", ("POST", "/_dev/clock"): "Clock", ("DELETE", "/_dev/clock"): "Clock",
    ("POST", "/_dev/jobs/{name}"): "JobRun", ("POST", "/_dev/mail-events"): "MailEventResult",
}


# (method, path) -> {status: component} for the other successes a route may answer with.
OTHER_SUCCESSES: dict[tuple[str, str], dict[int, str]] = {
    ("POST", "/auth/login"): {202: "SignInChallenge"},  # the password was right; the authenticator code is next
}


def schema_for(method: str, path: str) -> dict | None:
    name = RESPONSES.get((method, path))
    return ref(name) if name else None
