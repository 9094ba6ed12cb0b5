"""The Store on DynamoDB through PynamoDB. Every invariant two requests could race on is a condition."""
from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, UpdateError

from ..domain.errors import Conflict, UserExists
from ..domain.model import Account, AuditEvent, Membership, OneTimeToken, Page, User
from . import cursors
from .dynamo_codec import (_account_item, _audit_item, _member_item, _to_account, _to_event, _to_member,
                           _to_user, _user_key)
from .dynamo_invitations import DynamoInvitations
from .dynamo_models import (AccountItem, AuditItem, EmailItem, Item, MemberItem, RateItem, TokenItem,
                            UserItem)
from .transactions import Failed, Transaction


class DynamoStore(DynamoInvitations):
    """Store port on one DynamoDB table. Methods name their conditions; every read is a key lookup or a Query."""

    # users ---------------------------------------------------------------------------------
    def create_user(self, user: User) -> None:
        pk, sk = _user_key(user.user_id)
        profile = UserItem(pk, sk, user_id=user.user_id, email=user.email, first_name=user.first_name,
                           last_name=user.last_name, phone=user.phone, email_verified=user.email_verified,
                           created_at=user.created_at)
        sentinel = EmailItem(f"EMAIL#{user.email}", "USER", user_id=user.user_id)
        tx = Transaction()
        tx.put("profile", profile, condition=UserItem.pk.does_not_exist())
        tx.put("email", sentinel, condition=EmailItem.pk.does_not_exist())
        try:
            tx.commit()
        except Failed as failed:
            if "email" in failed.names:
                raise UserExists() from failed
            raise Conflict() from failed

    def delete_user(self, user: User) -> None:
        tx = Transaction()
        tx.delete("profile", UserItem(*_user_key(user.user_id)))
        tx.delete("email", EmailItem(f"EMAIL#{user.email}", "USER"), condition=EmailItem.user_id == user.user_id)
        tx.commit()

    def get_user(self, user_id: str) -> User | None:
        try:
            return _to_user(UserItem.get(*_user_key(user_id), consistent_read=True))
        except DoesNotExist:
            return None

    def get_users(self, user_ids: list[str]) -> dict[str, User]:
        keys = [_user_key(u) for u in dict.fromkeys(user_ids)]
        return {i.user_id: _to_user(i) for i in UserItem.batch_get(keys)} if keys else {}

    def user_id_for_email(self, email: str) -> str | None:
        try:
            return EmailItem.get(f"EMAIL#{email}", "USER", consistent_read=True).user_id
        except DoesNotExist:
            return None

    def _update_user(self, user_id: str, actions: list) -> None:
        item = UserItem(*_user_key(user_id))
        try:
            item.update(actions=actions, condition=UserItem.pk.exists())
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise

    def mark_email_verified(self, user_id: str) -> None:
        self._update_user(user_id, [UserItem.email_verified.set(True)])

    def revoke_sessions(self, user_id: str, at: datetime) -> None:
        self._update_user(user_id, [UserItem.sessions_revoked_at.set(at)])

    def load_access(self, account_id: str, user_id: str) -> tuple[Account | None, Membership | None, User | None]:
        """Account, membership and profile in one BatchGetItem (authorization on every request)."""
        account = membership = user = None
        keys = [(f"ACCOUNT#{account_id}", "ACCOUNT"), (f"ACCOUNT#{account_id}", f"MEMBER#{user_id}"),
                _user_key(user_id)]
        for item in Item.batch_get(keys, consistent_read=True):
            if isinstance(item, AccountItem):
                account = _to_account(item)
            elif isinstance(item, MemberItem):
                membership = _to_member(item)
            elif isinstance(item, UserItem):
                user = _to_user(item)
        return account, membership, user

    def record_login(self, user_id: str, at: datetime) -> None:
        self._update_user(user_id, [UserItem.last_login_at.set(at)])

    def update_profile(self, user_id: str, changes: dict) -> None:
        self._update_user(user_id, _profile_actions(changes))

    # one-time tokens -----------------------------------------------------------------------
    def put_token(self, token: OneTimeToken) -> None:
        TokenItem(f"TOKEN#{token.token_hash}", "TOKEN", purpose=token.purpose, user_id=token.user_id,
                  expires_at=token.expires_at, ttl=token.expires_at).save()

    def take_token(self, token_hash: str, purpose: str) -> OneTimeToken | None:
        """Delete and return the token: of two concurrent takers only one gets it."""
        try:
            response = TokenItem._get_connection().delete_item(
                f"TOKEN#{token_hash}", "TOKEN", condition=(TokenItem.purpose == purpose), return_values="ALL_OLD")
        except Exception as exc:  # DeleteError on a failed condition: unknown or other purpose
            if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
                return None
            raise
        old = (response or {}).get("Attributes")
        if not old:
            return None
        got = TokenItem.from_raw_data(old)
        return OneTimeToken(token_hash, got.purpose, got.user_id, got.expires_at)

    # accounts and memberships --------------------------------------------------------------
    def create_account(self, account: Account, owner: Membership, event: AuditEvent) -> None:
        tx = Transaction()
        tx.put("account", _account_item(account), condition=AccountItem.pk.does_not_exist())
        tx.put("owner", _member_item(owner), condition=MemberItem.pk.does_not_exist())
        tx.put("audit", _audit_item(event))
        try:
            tx.commit()
        except Failed as failed:
            raise Conflict() from failed

    def get_account(self, account_id: str) -> Account | None:
        try:
            return _to_account(AccountItem.get(f"ACCOUNT#{account_id}", "ACCOUNT", consistent_read=True))
        except DoesNotExist:
            return None

    def get_accounts(self, account_ids: list[str]) -> dict[str, Account]:
        keys = [(f"ACCOUNT#{a}", "ACCOUNT") for a in dict.fromkeys(account_ids)]
        return {i.account_id: _to_account(i) for i in AccountItem.batch_get(keys)} if keys else {}

    def update_account(self, account: Account, changes: dict, event: AuditEvent,
                       profile: tuple[str, dict] | None = None) -> Account:
        """Optimistic: the write holds only if nobody changed the account since it was read."""
        actions = [getattr(AccountItem, k).set(v) for k, v in changes.items()]
        actions.append(AccountItem.version.set(account.version + 1))
        tx = Transaction()
        if profile:
            tx.update("profile", UserItem(*_user_key(profile[0])), _profile_actions(profile[1]),
                      condition=UserItem.pk.exists())
        tx.update("account", AccountItem(f"ACCOUNT#{account.account_id}", "ACCOUNT"), actions,
                  condition=(AccountItem.version == account.version) & (AccountItem.status == "active"))
        tx.put("audit", _audit_item(event))
        try:
            tx.commit()
        except Failed as failed:
            raise Conflict() from failed
        for key, value in changes.items():
            setattr(account, key, value)
        account.version += 1
        return account

    def close_account(self, account: Account, event: AuditEvent) -> None:
        tx = Transaction()
        tx.update("account", AccountItem(f"ACCOUNT#{account.account_id}", "ACCOUNT"),
                  [AccountItem.status.set("closed"), AccountItem.version.add(1)],
                  condition=AccountItem.status == "active")
        tx.put("audit", _audit_item(event))
        try:
            tx.commit()
        except Failed as failed:
            raise Conflict() from failed

    def get_membership(self, account_id: str, user_id: str) -> Membership | None:
        try:
            return _to_member(MemberItem.get(f"ACCOUNT#{account_id}", f"MEMBER#{user_id}", consistent_read=True))
        except DoesNotExist:
            return None

    def memberships_of_user(self, user_id: str) -> list[Membership]:
        return [_to_member(i) for i in MemberItem.by_owner.query(
            f"USER#{user_id}", MemberItem.gsi1sk.startswith("ACCOUNT#"))]

    def _page(self, model, pk: str, prefix: str, limit: int, cursor: str | None, newest_first=False,
              filter_condition=None):
        start = {"pk": {"S": pk}, "sk": {"S": cursors.decode(cursor, prefix)}} if cursor else None
        result = model.query(pk, model.sk.startswith(prefix), limit=limit, last_evaluated_key=start,
                             scan_index_forward=not newest_first, consistent_read=True, page_size=limit,
                             filter_condition=filter_condition)
        items = list(result)
        last = result.last_evaluated_key
        return items, (cursors.encode(last["sk"]["S"]) if last else None)

    def list_members(self, account_id: str, limit: int, cursor: str | None, role: str | None = None) -> Page:
        """A page of members; with `role`, only those (a page may then hold fewer than `limit`)."""
        items, nxt = self._page(MemberItem, f"ACCOUNT#{account_id}", "MEMBER#", limit, cursor,
                                filter_condition=(MemberItem.role == role) if role else None)
        return Page([_to_member(i) for i in items], nxt)

    # audit -----------------------------------------------------------------------------------
    def add_audit(self, event: AuditEvent) -> None:
        _audit_item(event).save(condition=AuditItem.pk.does_not_exist())

    def list_audit(self, account_id: str, limit: int, cursor: str | None) -> Page:
        items, nxt = self._page(AuditItem, f"ACCOUNT#{account_id}", "AUDIT#", limit, cursor, newest_first=True)
        return Page([_to_event(i) for i in items], nxt)

    # rate limits -----------------------------------------------------------------------------
    def _rate_key(self, key: str, window_start: datetime) -> tuple[str, str]:
        return f"RATE#{key}#{int(window_start.timestamp())}", "RATE"

    def count_hit(self, key: str, window_start: datetime, expires_at: datetime) -> int:
        item = RateItem(*self._rate_key(key, window_start))
        item.update(actions=[RateItem.hits.add(1), RateItem.ttl.set(expires_at)])
        return int(item.hits)

    def hits_many(self, keys: list[str], window_start: datetime) -> dict[str, int]:
        by_key = {self._rate_key(k, window_start): k for k in keys}
        return {by_key[(i.pk, i.sk)]: int(i.hits) for i in RateItem.batch_get(list(by_key), consistent_read=True)}



def _profile_actions(changes: dict) -> list:
    return [getattr(UserItem, k).set(v) for k, v in changes.items() if k in ("first_name", "last_name", "phone")]
