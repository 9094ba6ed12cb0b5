"""Helpers for service tests: people, memberships and access contexts, written the way the services write them."""
from __future__ import annotations

from chalicelib.domain import scopes
from chalicelib.domain.model import Account, Membership, Partner, StaffMember, User
from chalicelib.services import access
from chalicelib.services.principal import Principal


def person(deps, name: str, verified: bool = True, totp: bool = False) -> Principal:
    """A user of the table (and of the fake user pool, password `"{name} password"`); with `totp`, with an
    authenticator app (partner roles require one)."""
    uid = deps.secrets.new_id("usr")
    email = f"{name}.{uid.split('_')[1]}@example.com"
    user = User(uid, email, name.title(), "Example", deps.clock.now(), email_verified=verified)
    tx = deps.store.transaction()
    deps.store.users.add(tx, user)
    tx.commit()
    deps.identity.create_user(uid, email, f"{name} password", email_verified=verified)
    principal = Principal(uid, source_ip="198.51.100.7")
    if totp:
        enrol(deps, principal)
    return principal


def access_token(deps, principal: Principal) -> str:
    """A fresh access token of the fake user pool, as signing in with the password gives (no app yet)."""
    return deps.identity.sign_in(principal.user_id, deps.identity.users[principal.user_id].password).access_token


def enrol(deps, principal: Principal) -> str:
    """Add an authenticator app the way the routes do (its secret, then its code); returns the token used."""
    from chalicelib.services import mfa

    token = access_token(deps, principal)
    mfa.start(deps, signed_in(deps, principal), token)
    mfa.confirm(deps, signed_in(deps, principal), token, deps.identity.code_for(principal.user_id))
    return token


def user_of(deps, principal: Principal) -> User:
    return deps.store.users.get(principal.user_id)


def signed_in(deps, principal: Principal) -> access.UserAccess:
    return access.authorize(deps, scopes.AUTHENTICATED, principal, {})


def on_account(deps, principal: Principal, account_id: str, *actions: str) -> access.AccountAccess:
    return access.authorize(deps, scopes.account(*(actions or ("account.view",))), principal,
                            {"account_id": account_id})


def on_partner(deps, principal: Principal, partner_id: str, *actions: str) -> access.PartnerAccess:
    return access.authorize(deps, scopes.partner(*(actions or ("partner.view",))), principal,
                            {"partner_id": partner_id})


def join(deps, account_id: str, principal: Principal, role: str, status: str = "active") -> None:
    """A membership as accepting an invitation writes it (with its email seat)."""
    user = user_of(deps, principal)
    tx = deps.store.transaction()
    deps.store.accounts.add_member(tx, Membership(account_id, user.user_id, role, status, deps.clock.now(),
                                                  email=user.email))
    tx.commit()


def client_account(deps, partner_id: str, owner: Principal, assigned: list[str] = ()) -> Account:
    """A `client` account of a partner firm (the client portal's own service builds these later)."""
    user, now = user_of(deps, owner), deps.clock.now()
    account = Account(deps.secrets.new_id("acc"), "Client Co", "client", now, owner_ids=[user.user_id],
                      partner_id=partner_id, assigned_staff=list(assigned))
    tx = deps.store.transaction()
    deps.store.accounts.add(tx, account, Membership(account.account_id, user.user_id, "owner", "active", now,
                                                    email=user.email))
    tx.commit()
    return account


def add_staff(deps, partner: Partner, principal: Principal, role: str) -> None:
    """A staff role as accepting a staff invitation writes it (staff item, seat, profile's partner role)."""
    user = user_of(deps, principal)
    tx = deps.store.transaction()
    deps.store.partners.add_staff(tx, StaffMember(partner.partner_id, user.user_id, role, user.email,
                                                  deps.clock.now()))
    deps.store.users.set_partner_role(tx, user.user_id, partner.partner_id, role)
    tx.commit()


def audit_actions(deps, target_id: str, kind: str = "account") -> list[str]:
    return [e.action for e in deps.store.audit.list(kind, target_id, 100, None).items]
