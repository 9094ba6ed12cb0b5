"""The repositories over the one table, the unit of work, and the reads that cross aggregates in one call."""
from __future__ import annotations

from ...domain.model import Account, Membership, Partner, StaffMember, User
from . import keys, table
from .accounts import Accounts, to_account, to_member
from .applications import Applications
from .clients import Clients
from .forms import Forms
from .jobs import Jobs
from .suppressions import Suppressions
from .audit import Audit
from .cursors import Cursors
from .invitations import Invitations, to_invitation
from .models import AccountItem, EmailItem, InviteItem, LinkItem, MemberItem, PartnerItem, RateItem, StaffItem, UserItem
from .partners import Partners, to_partner, to_staff
from .rates import Rates
from .unit_of_work import UnitOfWork
from .users import Users, to_user


class Store:
    def __init__(self, cursor_secret: bytes) -> None:
        cursors = Cursors(cursor_secret)
        self.users = Users()
        self.accounts = Accounts(cursors)
        self.partners = Partners(cursors)
        self.invitations = Invitations(cursors)
        self.audit = Audit(cursors)
        self.applications = Applications(cursors)
        self.clients = Clients(cursors)
        self.forms = Forms(cursors)
        self.jobs = Jobs(cursors)
        self.suppressions = Suppressions()
        self.rates = Rates()

    @staticmethod
    def transaction() -> UnitOfWork:
        return UnitOfWork()

    def account_access(self, account_id: str, user_id: str, email: str | None = None
                       ) -> tuple[Account | None, Membership | None, User | None, dict[str, bool]]:
        """The account, the caller's membership and profile: one BatchGetItem authorizes an account route.
        `email`: an address to learn in the same call whether it has a user (the last value: {email: bool})."""
        found = table.batch_get([keys.account(account_id), keys.member(account_id, user_id), keys.user(user_id),
                                 *([keys.email_owner(email)] if email else [])])
        return (next((to_account(i) for i in found if isinstance(i, AccountItem)), None),
                next((to_member(i) for i in found if isinstance(i, MemberItem)), None),
                next((to_user(i) for i in found if isinstance(i, UserItem)), None), _users_of(found, email))

    def member_and_profile(self, account_id: str, user_id: str) -> tuple[Membership | None, User | None]:
        """A member of an account and their profile, in one BatchGetItem."""
        found = table.batch_get([keys.member(account_id, user_id), keys.user(user_id)])
        return (next((to_member(i) for i in found if isinstance(i, MemberItem)), None),
                next((to_user(i) for i in found if isinstance(i, UserItem)), None))

    def partner_access(self, partner_id: str, user_id: str, email: str | None = None
                       ) -> tuple[Partner | None, StaffMember | None, User | None, dict[str, bool]]:
        """The partner, the caller's staff membership and profile, in one BatchGetItem (and `email`: see
        `account_access`)."""
        found = table.batch_get([keys.partner(partner_id), keys.staff(partner_id, user_id), keys.user(user_id),
                                 *([keys.email_owner(email)] if email else [])])
        return (next((to_partner(i) for i in found if isinstance(i, PartnerItem)), None),
                next((to_staff(i) for i in found if isinstance(i, StaffItem)), None),
                next((to_user(i) for i in found if isinstance(i, UserItem)), None), _users_of(found, email))

    def things_of_email(self, email: str, limit: int = 200) -> tuple[list, list, list]:
        """Memberships, staff roles and pending invitations of an address: one Query of gsi1 (`GET /me`)."""
        items, _ = table.query_page(keys.by_email(email), index="gsi1", limit=limit)
        return ([to_member(i) for i in items if isinstance(i, MemberItem)],
                [to_staff(i) for i in items if isinstance(i, StaffItem)],
                [to_invitation(i) for i in items if isinstance(i, InviteItem) and not isinstance(i, LinkItem)])

    def accounts_and_partners(self, account_ids: list[str], partner_ids: list[str]) -> tuple[dict, dict]:
        """Accounts and partners by id, in one BatchGetItem."""
        found = table.batch_get([keys.account(a) for a in account_ids] + [keys.partner(p) for p in partner_ids])
        return ({i.account_id: to_account(i) for i in found if isinstance(i, AccountItem)},
                {i.partner_id: to_partner(i) for i in found if isinstance(i, PartnerItem)})

    def link_and_count(self, token_hash: str, rate_key: str, window_start) -> tuple:
        """A link's invitation and the caller's count of unknown links this window, in one BatchGetItem."""
        found = table.batch_get([keys.token(token_hash), keys.rate(rate_key, window_start)])
        link = next((to_invitation(i) for i in found if isinstance(i, LinkItem)), None)
        return link, next((int(i.hits) for i in found if isinstance(i, RateItem)), 0)

    def staff_and_profiles(self, partner_id: str, user_ids: list[str]) -> tuple[dict, dict]:
        """Staff roles of a firm and those people's profiles, in one BatchGetItem (up to 50 people)."""
        wanted = list(dict.fromkeys(user_ids))[:50]
        found = table.batch_get([keys.staff(partner_id, u) for u in wanted] + [keys.user(u) for u in wanted])
        return ({i.user_id: to_staff(i) for i in found if isinstance(i, StaffItem)},
                {i.user_id: to_user(i) for i in found if isinstance(i, UserItem)})


def _users_of(found: list, email: str | None) -> dict[str, bool]:
    """{email: whether a user has it} for the address looked up with an authorization read, if any."""
    if not email:
        return {}
    return {email: any(isinstance(i, EmailItem) and i.user_id for i in found)}
