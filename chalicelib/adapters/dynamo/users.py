"""Users: the profile, the email sentinel that keeps emails unique, and one-time mailed tokens."""
from __future__ import annotations

from datetime import datetime

from ...domain.model import OneTimeToken, User
from . import keys, table
from .models import EmailItem, TokenItem, UserItem
from .unit_of_work import UnitOfWork

_PROFILE_FIELDS = ("first_name", "last_name", "phone")


def to_user(i: UserItem) -> User:
    return User(user_id=i.user_id, email=i.email, first_name=i.first_name, last_name=i.last_name,
                created_at=i.created_at, email_verified=i.email_verified, phone=i.phone,
                last_login_at=i.last_login_at, sessions_revoked_at=i.sessions_revoked_at,
                partner_roles=i.partner_roles.as_dict() if i.partner_roles else {})


def _profile(user_id: str) -> UserItem:
    return UserItem(*keys.user(user_id))


class Users:
    def get(self, user_id: str) -> User | None:
        item = table.get(UserItem, *keys.user(user_id))
        return to_user(item) if item else None

    def get_many(self, user_ids: list[str]) -> dict[str, User]:
        return {i.user_id: to_user(i) for i in table.batch_get([keys.user(u) for u in user_ids])
                if isinstance(i, UserItem)}

    def id_for_email(self, email: str) -> str | None:
        item = table.get(EmailItem, *keys.email_owner(email))
        return item.user_id if item else None

    def add(self, tx: UnitOfWork, user: User) -> None:
        """The profile and the email sentinel together (condition `user.email`: the email is free)."""
        tx.put("user.new", UserItem(*keys.user(user.user_id), user_id=user.user_id, email=user.email,
                                    first_name=user.first_name, last_name=user.last_name, phone=user.phone,
                                    email_verified=user.email_verified, created_at=user.created_at,
                                    last_login_at=user.last_login_at, partner_roles=user.partner_roles),
               condition=UserItem.pk.does_not_exist())
        tx.put("user.email", EmailItem(*keys.email_owner(user.email), user_id=user.user_id),
               condition=EmailItem.pk.does_not_exist())

    def remove(self, user: User) -> None:
        """Undo `add` (a sign-up whose user-pool half failed)."""
        tx = UnitOfWork()
        tx.delete("user", _profile(user.user_id))
        tx.delete("user.email_owner", EmailItem(*keys.email_owner(user.email)),
                  condition=EmailItem.user_id == user.user_id)
        tx.commit()

    def _set(self, user_id: str, actions: list) -> None:
        from pynamodb.exceptions import UpdateError

        try:
            _profile(user_id).update(actions=actions, condition=UserItem.pk.exists())
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise

    def mark_verified(self, user_id: str) -> None:
        self._set(user_id, [UserItem.email_verified.set(True)])

    def record_login(self, user_id: str, at: datetime) -> None:
        self._set(user_id, [UserItem.last_login_at.set(at)])

    def revoke_sessions(self, user_id: str, at: datetime) -> None:
        self._set(user_id, [UserItem.sessions_revoked_at.set(at)])

    def update_profile(self, tx: UnitOfWork, user_id: str, changes: dict) -> None:
        actions = [getattr(UserItem, k).set(v) for k, v in changes.items() if k in _PROFILE_FIELDS]
        if actions:
            tx.update("user.profile", _profile(user_id), actions, condition=UserItem.pk.exists())

    def set_partner_role(self, tx: UnitOfWork, user_id: str, partner_id: str, role: str | None) -> None:
        """The staff role the profile carries, so that one read authorizes an advisor (None removes it)."""
        path = UserItem.partner_roles[partner_id]  # type: ignore[index]
        action = path.set(role) if role is not None else path.remove()
        tx.update("user.partner_role", _profile(user_id), [action], condition=UserItem.pk.exists())

    # one-time mailed tokens ------------------------------------------------------------------------
    def put_token(self, token: OneTimeToken) -> None:
        TokenItem(*keys.token(token.token_hash), purpose=token.purpose, user_id=token.user_id,
                  expires_at=token.expires_at, ttl=token.expires_at).save()

    def take_token(self, token_hash: str, purpose: str) -> OneTimeToken | None:
        """Delete and return the token: of two concurrent takers only one gets it."""
        from pynamodb.exceptions import DeleteError

        try:
            response = TokenItem._get_connection().delete_item(
                *keys.token(token_hash), condition=(TokenItem.purpose == purpose), return_values="ALL_OLD")
        except DeleteError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return None
            raise
        old = (response or {}).get("Attributes")
        if not old:
            return None
        got = TokenItem.from_raw_data(old)
        return OneTimeToken(token_hash, got.purpose, got.user_id, got.expires_at)
