"""A partner firm's clients: create (a `client` account with its owners; nothing is sent), read, list, change,
invite owners to activate, add guests. Every change of an owner's activation status rewrites the client row
in the same transaction as the change itself (`track`)."""
from __future__ import annotations

from dataclasses import replace

from ..domain import clients as rules
from ..domain.clients import Client, ClientOwner
from ..domain.emails import normalize_email
from ..domain.errors import DomainError, Forbidden, InvitationPending, NotFound, ValidationFailed
from ..domain.invitations import ACCOUNT, Invitation
from ..domain.model import Account, Membership, Page
from . import audit
from .access import AccountAccess, PartnerAccess, deny
from .deps import Deps


def _staff_entries(deps: Deps, ctx: PartnerAccess, user_ids: list[str]) -> list[dict]:
    """The assigned staff as the row shows them; every one must be staff of this firm."""
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return []
    staff, profiles = deps.store.staff_and_profiles(ctx.partner.partner_id, ids)
    unknown = [u for u in ids if u not in staff]
    if unknown:
        raise ValidationFailed(details={"assigned_staff": f"not staff of this partner: {', '.join(unknown[:5])}"})
    return [{"user_id": u, "name": profiles[u].display_name if u in profiles else staff[u].email} for u in ids]


def create(deps: Deps, ctx: PartnerAccess, body: dict) -> Client:
    owners = [{**o, "email": normalize_email(o["email"])} for o in body["owners"]]
    rules.require_distinct_owners(owners)
    assigned = list(body.get("assigned_staff") or [])
    if ctx.staff.role == "staff" and ctx.staff.user_id not in assigned:
        assigned.insert(0, ctx.staff.user_id)  # staff reach only the clients assigned to them: their own are
    now = deps.clock.now()
    client = Client(client_id=deps.secrets.new_id("acc"), partner_id=ctx.partner.partner_id, name=body["name"],
                    plan=body["plan"], created_at=now,
                    owners=[ClientOwner(o["email"], o.get("first_name") or "", o.get("last_name") or "")
                            for o in owners],
                    assigned_staff=_staff_entries(deps, ctx, assigned),
                    preliminary_data=body.get("preliminary_data") or {})
    account = Account(account_id=client.client_id, name=client.name, type="client", created_at=now, plan=client.plan,
                      partner_id=client.partner_id, assigned_staff=client.staff_ids)
    tx = deps.store.transaction()
    deps.store.accounts.add(tx, account, None)
    deps.store.clients.add(tx, client)
    deps.store.audit.add(tx, audit.account_event(deps, account.account_id, "account.created", ctx.actor, "account",
                                                 account.account_id, name=client.name, type="client"))
    deps.store.audit.add(tx, ctx.audit_event(deps, "client.created", "account", client.client_id, name=client.name,
                                             owners=len(client.owners)))
    tx.commit()
    return client


def get(deps: Deps, ctx: PartnerAccess, client_id: str) -> Client:
    """404 for a client of another firm, or one not assigned to the staff member asking."""
    client = deps.store.clients.get(ctx.partner.partner_id, client_id)
    if client is None or (ctx.staff.role == "staff" and ctx.staff.user_id not in client.staff_ids):
        raise NotFound()
    return client


def logins(deps: Deps, rows: list[Client]) -> dict:
    """The profiles of the active owners of these rows: their last sign-in, which every sign-in changes."""
    active = [o.user_id for c in rows for o in c.owners if o.user_id and o.status == "active"]
    return deps.store.users.get_many(active) if active else {}


def list_page(deps: Deps, ctx: PartnerAccess, status: str | None, staff: str | None, limit: int,
              cursor: str | None) -> tuple[Page, dict]:
    """One Query page of the firm's list (or of one filtered list), newest first, and the active owners' profiles
    for their last sign-in (which changes with every sign-in, so it is not copied into the rows)."""
    if ctx.staff.role == "staff":
        if staff not in (None, ctx.staff.user_id):
            raise deny(deps, ctx, "clients.view", "Staff see the clients assigned to them only.", staff=staff)
        staff = ctx.staff.user_id
    page = deps.store.clients.list(ctx.partner.partner_id, rules.filter_key(status, staff), limit, cursor)
    return page, logins(deps, page.items)


def update(deps: Deps, ctx: PartnerAccess, client_id: str, body: dict) -> Client:
    """Name, plan, assigned staff, preliminary data, and new owners (owners are added, never dropped here)."""
    previous = get(deps, ctx, client_id)
    changed = replace(previous, owners=list(previous.owners))
    if "name" in body:
        changed.name = body["name"]
    if "plan" in body:
        changed.plan = body["plan"]
    if "preliminary_data" in body:
        changed.preliminary_data = body["preliminary_data"]
    if "assigned_staff" in body:
        changed.assigned_staff = _staff_entries(deps, ctx, body["assigned_staff"])
    for owner in body.get("owners") or []:
        email = normalize_email(owner["email"])
        if changed.owner(email) is None:
            changed.owners.append(ClientOwner(email, owner.get("first_name") or "", owner.get("last_name") or ""))
    if len(changed.owners) > rules.MAX_OWNERS:
        raise ValidationFailed(details={"owners": f"a client has at most {rules.MAX_OWNERS} owners"})
    account = deps.store.accounts.get(client_id)
    tx = deps.store.transaction()
    deps.store.clients.save(tx, changed, previous)
    deps.store.accounts.update(tx, account, {"name": changed.name, "plan": changed.plan,
                                             "assigned_staff": changed.staff_ids})
    fields = sorted(body)
    deps.store.audit.add(tx, ctx.audit_event(deps, "client.updated", "account", client_id, fields=fields))
    deps.store.audit.add(tx, audit.account_event(deps, client_id, "account.updated", ctx.actor, "account", client_id,
                                                 fields=fields))
    tx.commit()
    return changed


# owners' activation ------------------------------------------------------------------------------
def advisor_context(deps: Deps, ctx: PartnerAccess, client: Client) -> AccountAccess:
    """The staff member on the client account itself, as its advisor acting for the firm."""
    account = deps.store.accounts.get(client.client_id)
    if account is None:
        raise NotFound()
    member = Membership(account.account_id, ctx.user.user_id, "advisor", "active", account.created_at,
                        email=ctx.user.email)
    return AccountAccess(ctx.principal, ctx.user, account, member, acting_for=ctx.partner.partner_id)


def invite_owners(deps: Deps, ctx: PartnerAccess, client_id: str, emails: list[str] | None,
                  form_id: str | None) -> list[dict]:
    """One activation invitation per owner asked for (default: every owner not yet active), valid 30 days."""
    from .invitations import inviter

    client = get(deps, ctx, client_id)
    if form_id is not None and deps.store.forms.get(ctx.partner.partner_id, form_id) is None:
        raise ValidationFailed(details={"form_id": "is not a form of this partner"})
    now = deps.clock.now()
    wanted = [normalize_email(e) for e in emails] if emails else \
        [o.email for o in client.owners if o.activation_status(now) != "active"]
    account_ctx = advisor_context(deps, ctx, client)
    # Whether each address has a login (its mail's wording), for every owner at once: one read, not one each.
    known = deps.store.users.ids_for_emails([e for e in wanted if client.owner(e) is not None and
                                             client.owner(e).activation_status(now) not in ("active", "invited")])
    results = []
    for email in dict.fromkeys(wanted):
        owner = client.owner(email)
        result = {"email": email, "invitation_id": owner.invitation_id if owner else None, "error": None}
        status = owner.activation_status(now) if owner else None
        if owner is None:
            result.update(status="failed", error="not_an_owner")
        elif status == "active":
            result["status"] = "already_active"
        elif status == "invited":
            result["status"] = "already_pending"
        else:
            try:
                inv = inviter.create(deps, account_ctx, {
                    "email": email, "role": "owner", "first_name": owner.first_name or None,
                    "last_name": owner.last_name or None, "expires_in_days": rules.ACTIVATION_DAYS,
                    "form_id": form_id}, known=email in known)
                result.update(status="sent", invitation_id=inv.invitation_id)
            except InvitationPending:
                result["status"] = "already_pending"
            except DomainError as exc:
                result.update(status="failed", error=exc.code)
        results.append(result)
    return results


def add_guest(deps: Deps, ctx: PartnerAccess, client_id: str, body: dict) -> Invitation:
    """A guest added to a client account is invited at once."""
    from .invitations import inviter

    client = get(deps, ctx, client_id)
    known = ctx.users_of_emails.get(normalize_email(body["email"]))  # looked up by the authorization read
    return inviter.create(deps, advisor_context(deps, ctx, client), {**body, "role": "guest"}, known=known)


def resend(deps: Deps, ctx: PartnerAccess, client_id: str, invitation_id: str,
           confirm_address: bool = False) -> Invitation:
    """Resend from the client list."""
    from .invitations import inviter

    client = get(deps, ctx, client_id)
    return inviter.resend(deps, advisor_context(deps, ctx, client), invitation_id, confirm_address)


def tracks(inv: Invitation) -> bool:
    """Owner invitations of client accounts move an owner's activation status on the client row."""
    return inv.target_type == ACCOUNT and inv.role == "owner" and bool(inv.partner_id)


def track(deps: Deps, tx, inv: Invitation, status: str, user_id: str | None = None) -> None:
    """Add to `tx` the client row with this owner's new status (read now; written under its version)."""
    if not tracks(inv):
        return
    previous = deps.store.clients.get(inv.partner_id, inv.target_id)
    if previous is None:
        return
    changes: dict = {"status": status, "invitation_id": inv.invitation_id}
    if status == "invited":
        changes.update(invited_at=inv.last_sent_at, expires_at=inv.expires_at)
    if status == "not_invited":
        changes.update(invitation_id=None, invited_at=None, expires_at=None)
    if user_id is not None:
        changes["user_id"] = user_id
    base = previous if previous.owner(inv.email) else replace(
        previous, owners=[*previous.owners, ClientOwner(inv.email, inv.first_name or "", inv.last_name or "")])
    deps.store.clients.save(tx, base.with_owner(inv.email, **changes), previous)


def require_may_view(ctx: PartnerAccess) -> None:
    if not ctx.can("clients.view"):
        raise Forbidden()
