"""Rules of the pure domain: no AWS in it, permissions denied by default, one normal form for emails."""
from __future__ import annotations

import ast
import string
import unicodedata
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from chalicelib.domain import permissions
from chalicelib.domain.emails import is_valid_email, normalize_email
from chalicelib.domain.permissions import (ACCOUNT_ACTIONS, ACCOUNT_COLUMNS, ACCOUNT_GRANTS, PARTNER_ACTIONS,
                                           PARTNER_COLUMNS, account_permissions, can, partner_can)

DOMAIN = Path(__file__).parents[2] / "chalicelib" / "domain"
FORBIDDEN = ("boto3", "botocore", "aiobotocore", "s3transfer", "pynamodb", "chalice", "moto")
ROLE_STATUSES = [("owner", "active"), ("authorized_user", "active"), ("authorized_user", "application_required"),
                 ("authorized_user", "in_review"), ("admin", "active"), ("collaborator", "active"),
                 ("advisor", "active"), ("guest", "active")]


# domain/ imports nothing from AWS, Chalice or PynamoDB -------------------------------------------------

def imported_modules(source: str) -> list[tuple[str, int]]:
    """(module, relative level) of every import in a module, including importlib/__import__ calls with a literal."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.level))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("import_module", "__import__"):
                found.append((node.args[0].value, 0))
    return found


def problems(source: str) -> list[str]:
    bad = []
    for module, level in imported_modules(source):
        if level == 0 and module.split(".")[0] in FORBIDDEN:
            bad.append(f"imports {module}")
        if level == 0 and module.split(".")[0] == "chalicelib" and not module.startswith("chalicelib.domain"):
            bad.append(f"imports {module} from outside the domain")
        if level > 1:
            bad.append(f"imports {'.' * level}{module} from outside the domain")
    return bad


DOMAIN_MODULES = sorted(DOMAIN.rglob("*.py"))


def test_the_domain_package_has_modules_to_check():
    assert {"permissions.py", "emails.py", "model.py"} <= {p.name for p in DOMAIN_MODULES}


@pytest.mark.parametrize("module", DOMAIN_MODULES, ids=lambda p: p.name)
def test_a_domain_module_imports_nothing_from_aws_chalice_or_pynamodb(module):
    assert problems(module.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("source", [
    "import boto3", "import botocore.exceptions", "from pynamodb.models import Model", "from chalice import Response",
    "import json, boto3.session", "def f():\n    import boto3\n", "importlib.import_module('pynamodb.attributes')",
    "__import__('chalice')", "from ..adapters import dynamo_store", "from chalicelib.services import access",
])
def test_the_import_check_catches_every_way_of_importing_aws(source):
    assert problems(source) != []


@pytest.mark.parametrize("source", ["import re", "from datetime import datetime", "from .errors import NotFound",
                                    "from . import permissions", "import chalicelib.domain.emails"])
def test_the_import_check_allows_the_standard_library_and_the_domain_itself(source):
    assert problems(source) == []


# Deny by default ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("action", ACCOUNT_ACTIONS)
def test_nobody_without_a_role_may_do_anything(action):
    assert not can(None, None, action)
    assert not can(None, "active", action)
    assert not can("owner", None, action)


@pytest.mark.parametrize("role", ["", "superuser", "root", "OWNER", "Owner", " owner", "owner ", "authorized_user*",
                                  "partner_admin", "staff", "reviewer", "member"])
def test_an_unknown_role_may_do_nothing(role):
    assert account_permissions(role, "active") == frozenset()
    assert not any(can(role, "active", action) for action in ACCOUNT_ACTIONS)


@pytest.mark.parametrize("role, status", ROLE_STATUSES)
@pytest.mark.parametrize("action", ["", "anything", "money.steal", "ACCOUNT.VIEW", "account.view ", "account",
                                    "account.*", "*", "partner.view", "clients.create", None])
def test_an_unknown_action_is_denied_to_every_role(role, status, action):
    assert not can(role, status, action)


@pytest.mark.parametrize("status", ["application_required", "in_review"])
def test_an_authorized_user_who_is_not_approved_has_only_admin_rights(status):
    assert account_permissions("authorized_user", status) == ACCOUNT_GRANTS["admin"]
    assert not can("authorized_user", status, "money.withdraw")


def test_the_column_label_of_authorized_users_in_application_is_not_a_role():
    assert "authorized_user*" not in permissions.MEMBER_ROLES
    assert account_permissions("authorized_user*", "active") == frozenset()


@pytest.mark.parametrize("role", ["owner", "authorized_user", "collaborator", "admin", "guest", "advisor"])
@pytest.mark.parametrize("status", ["", "suspended", "removed", "pending", "ACTIVE"])
def test_a_member_in_an_unknown_status_may_do_nothing(role, status):
    assert account_permissions(role, status) == frozenset()


@given(role=st.one_of(st.none(), st.text(max_size=30)), status=st.one_of(st.none(), st.text(max_size=30)),
       action=st.one_of(st.none(), st.text(max_size=40), st.sampled_from(ACCOUNT_ACTIONS)))
@example(role="owner", status="active", action="money.steal")
def test_a_permission_is_granted_only_for_a_listed_role_and_action(role, status, action):
    if can(role, status, action):
        assert action in ACCOUNT_ACTIONS
        assert permissions.account_column(role, status) in ACCOUNT_COLUMNS


@given(role=st.one_of(st.none(), st.text(max_size=30)), action=st.one_of(st.none(), st.text(max_size=40)))
def test_a_partner_permission_is_granted_only_for_a_listed_role_and_action(role, action):
    if partner_can(role, action):
        assert role in PARTNER_COLUMNS and action in PARTNER_ACTIONS


def test_every_partner_role_states_its_requirements_and_partner_admins_and_staff_need_an_authenticator_app():
    assert set(permissions.PARTNER_REQUIREMENTS) == set(PARTNER_COLUMNS)
    assert [role for role in PARTNER_COLUMNS if permissions.partner_role_requires(role, permissions.MFA_TOTP)] == \
        ["partner_admin", "staff"]  # PERMISSIONS.md: both roles are the firm's staff, and both reach client data


@given(roles=st.dictionaries(st.text(max_size=10), st.one_of(st.sampled_from(PARTNER_COLUMNS), st.text(max_size=20)),
                             max_size=4))
def test_someone_must_keep_an_app_exactly_when_one_of_their_partner_roles_requires_it(roles):
    expected = any(permissions.partner_role_requires(role, permissions.MFA_TOTP) for role in roles.values())
    assert permissions.mfa_required(roles) is expected
    if expected:
        assert set(roles.values()) & set(PARTNER_COLUMNS)


def test_no_requirement_for_an_unknown_role_or_an_unknown_requirement():
    assert not permissions.partner_role_requires(None, permissions.MFA_TOTP)
    assert not permissions.partner_role_requires("owner", permissions.MFA_TOTP)
    assert not permissions.partner_role_requires("staff", "mfa.sms")
    assert not permissions.mfa_required({})


def test_partner_roles_and_actions_do_not_mix_with_account_ones():
    assert not partner_can("owner", "partner.view")
    assert not partner_can("partner_admin", "money.withdraw")
    assert not partner_can(None, "partner.view")
    assert not can("partner_admin", "active", "account.view")


# The matrix's own promises (DESIGN.md, PERMISSIONS.md) ---------------------------------------------------

def test_every_grant_is_an_action_of_the_matrix():
    for column, grants in ACCOUNT_GRANTS.items():
        assert grants <= set(ACCOUNT_ACTIONS), column
    assert len(ACCOUNT_ACTIONS) == len(set(ACCOUNT_ACTIONS))


def test_the_owner_may_do_everything_and_everyone_may_view_the_account():
    assert ACCOUNT_GRANTS["owner"] == frozenset(ACCOUNT_ACTIONS)
    assert all("account.view" in grants for grants in ACCOUNT_GRANTS.values())


def test_an_authorized_user_in_application_has_exactly_admin_rights_and_once_approved_more():
    assert ACCOUNT_GRANTS["authorized_user*"] == ACCOUNT_GRANTS["admin"]
    assert ACCOUNT_GRANTS["admin"] < ACCOUNT_GRANTS["authorized_user"]


def test_only_the_owner_manages_authorized_users_ownership_and_the_subscription():
    for action in ("authorized_users.add", "authorized_users.remove", "owner_info.update", "account_info.update",
                   "account.close", "collaborators.invite", "collaborators.revoke"):
        assert {c for c, grants in ACCOUNT_GRANTS.items() if action in grants} == {"owner"}, action


def test_invite_and_remove_rules_name_actions_of_the_matrix():
    for table in (permissions.INVITE_PERMISSION, permissions.REMOVE_PERMISSION):
        assert {v for v in table.values() if v is not None} <= set(ACCOUNT_ACTIONS)
    assert permissions.INVITE_PERMISSION["authorized_user"] == "authorized_users.add"
    assert permissions.REMOVE_PERMISSION["authorized_user"] == "authorized_users.remove"


def test_the_matrix_has_no_row_for_removing_an_owner_so_nobody_may():
    assert permissions.REMOVE_PERMISSION["owner"] is None
    assert not any("owners.remove" in grants for grants in ACCOUNT_GRANTS.values())


# Emails ------------------------------------------------------------------------------------------------

def is_control_or_space(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) == "Cc"


def is_c0_control_or_space(ch: str) -> bool:
    return ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7f


# Addresses shaped like local@domain.tld out of any characters: most are refused, some get through.
shaped = st.builds(lambda local, domain, tld, before, after: f"{before}{local}@{domain}.{tld}{after}",
                   st.text(min_size=1, max_size=70), st.text(min_size=1, max_size=70), st.text(min_size=1, max_size=70),
                   st.text(string.whitespace, max_size=3), st.text(string.whitespace, max_size=3))
anything = st.one_of(st.text(), shaped)


def test_normalising_trims_and_lower_cases():
    assert normalize_email("  A@X.com ") == "a@x.com"
    assert normalize_email("\tAda.Lovelace@Example.COM\r\n") == "ada.lovelace@example.com"


@given(anything)
def test_normalising_twice_changes_nothing(raw):
    assert normalize_email(normalize_email(raw)) == normalize_email(raw)


@given(anything)
@example("a@example.com\r\nBcc: b@example.com")
@example("a\x00b@example.com")
def test_an_accepted_address_has_no_white_space_and_no_c0_control_character(raw):
    email = normalize_email(raw)
    if is_valid_email(email):
        assert not any(is_c0_control_or_space(ch) for ch in email)
        assert email.count("@") == 1 and len(email) <= 254
        assert email == email.strip()


@pytest.mark.parametrize("email", ["a\x80b@example.com", "ab@exa\x9bmple.com", "a\x9f@example.com"])
def test_an_address_with_a_c1_control_character_is_refused(email):
    assert any(is_control_or_space(ch) for ch in email)
    assert not is_valid_email(normalize_email(email))


@given(anything)
def test_an_accepted_address_is_accepted_again_after_normalising(raw):
    email = normalize_email(raw)
    if is_valid_email(email):
        assert is_valid_email(normalize_email(email))


_atom = st.text(string.ascii_letters + string.digits + "-_+", min_size=1, max_size=20)
plain_emails = st.builds(lambda local, domain, tld: f"{local}@{domain}.{tld}", _atom,
                         st.from_regex(r"[a-z0-9]([a-z0-9-]{0,28}[a-z0-9])?", fullmatch=True),
                         st.text(string.ascii_lowercase, min_size=2, max_size=10))


@given(plain_emails, st.text(" \t\r\n", max_size=4), st.text(" \t\r\n", max_size=4))
def test_an_ordinary_address_is_accepted_however_it_is_written(email, before, after):
    written = before + "".join(c.upper() if i % 2 else c for i, c in enumerate(email)) + after
    assert normalize_email(written) == email.lower()
    assert is_valid_email(normalize_email(written))


@pytest.mark.parametrize("email", ["", "a", "a@b", "@example.com", "a@", "a@@example.com", "a@b@example.com",
                                   "a b@example.com", "a@exa mple.com", "a@example..com", "a@.com", "a@example.c",
                                   "a@example.com\r\nbcc: b@example.com", "a\nb@example.com", "a\x00@example.com",
                                   "a\x7f@example.com", "a" * 65 + "@example.com", "a@" + "b" * 250 + ".com"])
def test_a_malformed_address_is_refused(email):
    assert not is_valid_email(normalize_email(email))


@pytest.mark.parametrize("one, other", [("ann@bücher.example", "ann@xn--bcher-kva.example"),
                                        ("Ann@BÜCHER.example", "ann@xn--bcher-kva.example"),
                                        ("ann@bu\u0308cher.example", "ann@xn--bcher-kva.example"),
                                        ("zoe\u0308@example.com", "zoë@example.com")])
def test_every_spelling_of_one_mailbox_has_one_normal_form(one, other):
    assert normalize_email(one) == normalize_email(other)
    assert is_valid_email(normalize_email(one))


@pytest.mark.parametrize("email", ['"ann"@example.com', '"a b"@example.com', "a\\@b@example.com",
                                   "a@-example.com", "a@example-.com", "a@ex_ample.com", "a@1.2.3.4",
                                   "a@example.com.", "a@exa\\mple.com", "a@[127.0.0.1]"])
def test_quoted_local_parts_and_what_is_not_a_host_name_are_refused(email):
    assert not is_valid_email(normalize_email(email))


def test_an_address_followed_by_a_line_feed_is_refused_even_unnormalised():
    assert not is_valid_email("a@example.com\n")


def test_the_otpauth_uri_names_the_issuer_and_the_address_and_carries_the_secret():
    from urllib.parse import parse_qs, unquote, urlsplit

    from chalicelib.services.mfa import otpauth_uri

    uri = urlsplit(otpauth_uri("o'brien+tax@example.com", "JBSWY3DPEHPK3PXP"))

    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert unquote(uri.path) == "/Latchkey:o'brien+tax@example.com" and "@" not in uri.path
    assert parse_qs(uri.query) == {"secret": ["JBSWY3DPEHPK3PXP"], "issuer": ["Latchkey"], "algorithm": ["SHA1"],
                                   "digits": ["6"], "period": ["30"]}
