"""JSON Schemas of request bodies. Validation and the OpenAPI document both read them."""
from __future__ import annotations

from ..domain.invitations import ACCOUNT_ROLES, MAX_DAYS, MIN_DAYS, PARTNER_ROLES
from ..domain.model import OPENABLE_ACCOUNT_TYPES, PLANS
from ..domain.permissions import MEMBER_ROLES

# Every string names its kind of text (api/validation.py checks each kind; a test holds every schema to it).
# `line`: one line shown to people (names, account names, addresses): no control, format or separator
# character (CR, LF, NUL, bidi overrides, zero-width characters, U+2028 ...), since they reach mail and pages.
_SAFE = r"^[^\x00-\x1f\x7f]*$"


def text(max_length: int = 100, min_length: int = 1) -> dict:
    return {"type": "string", "minLength": min_length, "maxLength": max_length, "pattern": _SAFE, "format": "line"}


def free_text(max_length: int = 1000, min_length: int = 0) -> dict:
    """What a person writes (a message, a reason): lines, but no other control or format character."""
    return {"type": "string", "minLength": min_length, "maxLength": max_length, "pattern": r"^[^\x00]*$",
            "format": "free-text"}


def secret(max_length: int, min_length: int = 1) -> dict:
    """Passwords and tokens: any well-formed text, never shown."""
    return {"type": "string", "minLength": min_length, "maxLength": max_length, "format": "secret"}


def obj(properties: dict, required: tuple = (), **extra) -> dict:
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False, **extra}


EMAIL = {"type": "string", "format": "email", "maxLength": 320}
PASSWORD = secret(256, 8)
TOKEN = {"type": "string", "minLength": 16, "maxLength": 256, "pattern": r"^[A-Za-z0-9_\-]+$", "format": "secret"}

SIGNUP = obj({"email": EMAIL, "password": PASSWORD, "first_name": text(), "last_name": text()},
             ("email", "password", "first_name", "last_name"))
VERIFY_EMAIL = obj({"token": TOKEN}, ("token",))
LOGIN = obj({"email": EMAIL, "password": secret(256)},
            ("email", "password"))
REFRESH = obj({"refresh_token": secret(8192)}, ("refresh_token",))
LOGIN_PASSWORD = obj({"password": secret(256)}, ("password",))
TOTP_CODE = {"type": "string", "pattern": "^[0-9]{6}$", "minLength": 6, "maxLength": 6, "format": "secret"}
SIGN_IN_SESSION = secret(2048, 20)  # the user pool's session string (20 to 2048 characters)
LOGIN_TOTP = obj({"session": SIGN_IN_SESSION, "code": TOTP_CODE}, ("session", "code"))
VERIFY_TOTP = obj({"code": TOTP_CODE}, ("code",))
START_TOTP = obj({"password": secret(256)})  # asked only to replace an app that is on
# Ten letters and digits of base32 as shown (ABCDE-FGHIJ); case, spaces and dashes are the typist's.
RECOVERY_CODE = {"type": "string", "minLength": 10, "maxLength": 24, "pattern": r"^[A-Za-z2-7][A-Za-z2-7 \-]*$",
                 "format": "secret"}
LOGIN_RECOVERY = obj({"email": EMAIL, "password": secret(256), "recovery_code": RECOVERY_CODE},
                     ("email", "password", "recovery_code"))
FORGOT = obj({"email": EMAIL}, ("email",))
RESET = obj({"token": TOKEN, "password": PASSWORD}, ("token", "password"))

CREATE_ACCOUNT = obj({"name": text(120), "type": {"type": "string", "enum": list(OPENABLE_ACCOUNT_TYPES)}},
                     ("name", "type"))
PATCH_ACCOUNT = obj({
    "name": text(120),
    "owner_info": obj({"first_name": text(), "last_name": text(), "phone": text(32)}, minProperties=1),
    "business_info": obj({"business_name": text(200), "address": text(500), "timezone": text(64)},
                         minProperties=1),
    "account_info": obj({"plan": {"type": "string", "enum": list(PLANS)}}, minProperties=1),
    "logo_url": {"type": "string", "maxLength": 2048, "pattern": r"^https://[^\s\x00-\x1f\x7f]+$", "format": "line"},
}, minProperties=1)

CLOCK = obj({"advance_seconds": {"type": "integer", "minimum": 0, "maximum": 10 * 365 * 86400}},
            ("advance_seconds",))

CREATE_INVITATION = obj({
    "email": EMAIL,
    "role": {"type": "string", "enum": list(ACCOUNT_ROLES)},
    "first_name": text(), "last_name": text(),
    "message": free_text(1000),
    "expires_in_days": {"type": "integer", "minimum": MIN_DAYS, "maximum": MAX_DAYS},
    "confirm_address": {"type": "boolean"},
}, ("email", "role"))
RESEND = obj({"confirm_address": {"type": "boolean"}})
ACTIVATE = obj({"password": PASSWORD, "first_name": text(), "last_name": text()}, ("password",))

CREATE_PARTNER = obj({"name": text(120)}, ("name",))
STAFF_INVITATION = obj({
    "email": EMAIL,
    "role": {"type": "string", "enum": list(PARTNER_ROLES)},
    "first_name": text(), "last_name": text(),
    "message": free_text(1000),
    "expires_in_days": {"type": "integer", "minimum": MIN_DAYS, "maximum": MAX_DAYS},
    "confirm_address": {"type": "boolean"},
}, ("email", "role"))

CHANGE_ROLE = obj({"role": {"type": "string", "enum": list(MEMBER_ROLES)}}, ("role",))
_DATE = {"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "maxLength": 10, "format": "line"}
APPLICATION = obj({
    "legal_first_name": text(100), "legal_last_name": text(100), "date_of_birth": _DATE,
    "phone": {"type": "string", "maxLength": 16, "pattern": r"^\+[0-9]+$", "format": "line"}, "title": text(100),
    "address": obj({"line1": text(200), "line2": text(200), "city": text(100), "region": text(100),
                    "postal_code": text(20), "country": {"type": "string", "pattern": "^[A-Z]{2}$", "format": "line"}},
                   ("line1", "city", "region", "postal_code", "country")),
}, ("legal_first_name", "legal_last_name", "date_of_birth", "phone", "title", "address"))
REJECT = obj({"reason": free_text(1000, 1)},
             ("reason",))

_OWNER = obj({"email": EMAIL, "first_name": text(), "last_name": text()}, ("email",))
_ID = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"^[A-Za-z0-9_]+$", "format": "line"}
_STAFF_IDS = {"type": "array", "items": _ID, "maxItems": 20, "uniqueItems": True}
_PRELIMINARY = {"type": "object", "maxProperties": 50, "additionalProperties": {
    "type": ["string", "number", "boolean", "null"], "maxLength": 1000}}
CREATE_CLIENT = obj({
    "name": text(120), "plan": {"type": "string", "enum": list(PLANS)},
    "owners": {"type": "array", "items": _OWNER, "minItems": 1, "maxItems": 10},
    "assigned_staff": _STAFF_IDS, "preliminary_data": _PRELIMINARY,
}, ("name", "plan", "owners"))
PATCH_CLIENT = obj({
    "name": text(120), "plan": {"type": "string", "enum": list(PLANS)},
    "owners": {"type": "array", "items": _OWNER, "minItems": 1, "maxItems": 10},
    "assigned_staff": _STAFF_IDS, "preliminary_data": _PRELIMINARY,
}, minProperties=1)
INVITE_OWNERS = obj({"emails": {"type": "array", "items": EMAIL, "minItems": 1, "maxItems": 10},
                     "form_id": _ID})
ADD_GUEST = obj({"email": EMAIL, "first_name": text(), "last_name": text(), "message": free_text(1000),
                 "confirm_address": {"type": "boolean"}}, ("email",))
BULK = obj({"client_ids": {"type": "array", "items": _ID, "minItems": 1, "maxItems": 5000, "uniqueItems": True},
            "form_id": _ID}, ("client_ids",))
_FIELD = obj({"key": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"^[a-z][a-z0-9_]*$",
                      "format": "line"},
              "label": text(200), "type": {"type": "string", "enum": ["text", "number", "date", "select", "checkbox"]},
              "required": {"type": "boolean"},
              "options": {"type": "array", "items": text(200), "minItems": 1, "maxItems": 100}},
             ("key", "label", "type"))
CREATE_FORM = obj({"title": text(200), "fields": {"type": "array", "items": _FIELD, "minItems": 1, "maxItems": 50}},
                  ("title", "fields"))
FORM_RESPONSE = obj({"answers": {"type": "object", "maxProperties": 50}}, ("answers",))
MAIL_EVENT = obj({"type": {"type": "string", "enum": ["bounce", "complaint"]}, "email": EMAIL,
                  "bounce_type": {"type": "string", "enum": ["Permanent", "Transient"]}}, ("type", "email"))
