"""Users: the profile, the email sentinel that keeps emails unique, and one-time mailed tokens."""
from __future__ import annotations

from datetime import datetime

from ...domain.errors import NotFound
from ...domain.model import OneTimeToken, Registration, User
from . import keys, table
from .models import EmailItem, SignupItem, TokenItem, UserItem
from .unit_of_work import UnitOfWork

_PROFILE_FIELDS = ("first_name", "last_name", "phone")


def to_user(i: UserItem) -> User:
    return User(user_id=i.user_id, email=i.email, first_name=i.first_name, last_name=i.last_name,
                created_at=i.created_at, email_verified=i.email_verified, phone=i.phone,
                last_login_at=i.last_login_at, sessions_revoked_at=i.sessions_revoked_at,
                partner_roles=i.partner_roles.as_dict() if i.partner_roles else {},
                reset_generation=int(i.reset_generation or 0), mfa_enabled=bool(i.mfa_enabled),
                totp_pending=bool(i.totp_pending), kept_session=i.kept_session,
                recovery_codes_left=len(i.recovery_codes or ()))


def to_registration(i: SignupItem) -> Registration:
    return Registration(i.attempt_id, i.email, i.first_name, i.last_name, i.created_at)


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

    def ids_for_emails(self, emails: list[str]) -> dict[str, str]:
        """The user of each address that has one, in one BatchGetItem per hundred addresses."""
        by_key = {keys.email_owner(e)[0]: e for e in emails}
        found: dict[str, str] = {}
        pks = list(by_key)
        for start in range(0, len(pks), 100):
            for item in table.batch_get([keys.email_owner(by_key[pk]) for pk in pks[start:start + 100]]):
                if isinstance(item, EmailItem):
                    found[by_key[item.pk]] = item.user_id
        return found

    def sign_in_names(self, email: str) -> tuple[str | None, str | None]:
        """The user that owns the address and the newest unconfirmed sign-up attempt for it, in one BatchGetItem."""
        found = table.batch_get([keys.email_owner(email), keys.signup(email)])
        return (next((i.user_id for i in found if isinstance(i, EmailItem)), None),
                next((i.attempt_id for i in found if isinstance(i, SignupItem)), None))

    # sign-up attempts ------------------------------------------------------------------------------
    def registration(self, email: str) -> Registration | None:
        item = table.get(SignupItem, *keys.signup(email))
        return to_registration(item) if item else None

    def put_registration(self, reg: Registration, expires_at: datetime) -> str | None:
        """Make `reg` the address's newest attempt (older links then confirm nothing); returns the one it replaced."""
        item = SignupItem(*keys.signup(reg.email), attempt_id=reg.attempt_id, email=reg.email,
                          first_name=reg.first_name, last_name=reg.last_name, created_at=reg.created_at,
                          ttl=expires_at)
        args, kwargs = item._get_save_args()
        old = SignupItem._get_connection().put_item(*args, **kwargs, return_values="ALL_OLD")
        previous = ((old or {}).get("Attributes") or {}).get("attempt_id", {}).get("S")
        return previous if previous != reg.attempt_id else None

    def confirm(self, tx: UnitOfWork, reg: Registration, user: User) -> None:
        """The attempt becomes the user: only while it is still the address's newest (`signup.current`) and the
        address has no user (`user.email`)."""
        tx.delete("signup.current", SignupItem(*keys.signup(reg.email)),
                  condition=SignupItem.attempt_id == reg.attempt_id,
                  on_fail=lambda _old: NotFound("This link was replaced by a newer sign-up. Use the newest link."))
        self.add(tx, user)

    def clear_registration(self, tx: UnitOfWork, email: str) -> None:
        """Whatever attempt is pending for the address stops counting (an invitation link proved the mailbox)."""
        tx.delete("signup.cleared", SignupItem(*keys.signup(email)))

    def forget_registration(self, email: str, attempt_id: str) -> None:
        """Drop the attempt if it is still the newest (a conditional delete: a newer one stays)."""
        from pynamodb.exceptions import DeleteError

        try:
            SignupItem(*keys.signup(email)).delete(condition=SignupItem.attempt_id == attempt_id)
        except DeleteError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise

    def advance_reset_generation(self, user_id: str, generation: int) -> bool:
        """Move the reset generation on from `generation` (False if a concurrent reset moved it first)."""
        from pynamodb.exceptions import UpdateError

        current = (UserItem.reset_generation == generation) if generation else \
            (UserItem.reset_generation.does_not_exist() | (UserItem.reset_generation == 0))
        try:
            _profile(user_id).update(actions=[UserItem.reset_generation.set(generation + 1)],
                                     condition=UserItem.pk.exists() & current)
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def rewind_reset_generation(self, user_id: str, generation: int) -> None:
        """Undo `advance_reset_generation` (the user pool refused the new password)."""
        self._set(user_id, [UserItem.reset_generation.set(generation)])

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

    def record_login(self, user_id: str, at: datetime, tx: UnitOfWork | None = None,
                     mfa_enabled: bool | None = None) -> None:
        """The login time, and whether the user pool asked for an authenticator code if that changed."""
        actions = [UserItem.last_login_at.set(at)]
        if mfa_enabled is not None:
            actions.append(UserItem.mfa_enabled.set(mfa_enabled))
            if not mfa_enabled:  # turned off in the user pool itself: its recovery codes go with it
                actions.append(UserItem.recovery_codes.remove())
        if tx is None:
            self._set(user_id, actions)
        else:
            tx.update("user.login", _profile(user_id), actions, condition=UserItem.pk.exists())

    def revoke_sessions(self, user_id: str, at: datetime) -> None:
        self._set(user_id, [UserItem.sessions_revoked_at.set(at), UserItem.kept_session.remove()])

    def start_totp(self, user_id: str) -> None:
        """A TOTP secret was handed out: its first code may now turn the app on."""
        self._set(user_id, [UserItem.totp_pending.set(True)])

    def set_mfa(self, tx: UnitOfWork, user_id: str, enabled: bool, others_revoked_at: datetime | None = None,
                kept_session: str | None = None, recovery_digests: set[str] | None = None) -> None:
        """Whether the user pool asks this user for an authenticator code (authorization reads it from here).
        `others_revoked_at`: every session ends then but `kept_session` (the token id of the one that asked).
        A new app comes with `recovery_digests` (the codes it had before are void); an app turned off takes its
        recovery codes with it."""
        actions = [UserItem.mfa_enabled.set(enabled), UserItem.totp_pending.remove()]
        if enabled and recovery_digests:
            actions.append(UserItem.recovery_codes.set(recovery_digests))
        elif not enabled:
            # The app's recovery codes go with it, and so does every sign-in still waiting for one of its codes
            # (it holds the generation it began with): nobody finishes one after the app is off.
            actions += [UserItem.recovery_codes.remove(), UserItem.reset_generation.add(1)]
        if others_revoked_at is not None:
            actions.append(UserItem.sessions_revoked_at.set(others_revoked_at))
            actions.append(UserItem.kept_session.set(kept_session) if kept_session else UserItem.kept_session.remove())
        tx.update("user.mfa", _profile(user_id), actions, condition=UserItem.pk.exists())

    def renew_recovery_codes(self, tx: UnitOfWork, user_id: str, digests: set[str]) -> None:
        """A new set of recovery codes in place of the old one, while the app is on (condition `user.mfa_on`)."""
        tx.update("user.mfa_on", _profile(user_id), [UserItem.recovery_codes.set(digests)],
                  condition=UserItem.mfa_enabled == True)  # noqa: E712 (a PynamoDB condition, not a comparison)

    def recover(self, tx: UnitOfWork, user_id: str, digest: str, revoked_at: datetime, login_at: datetime) -> None:
        """A recovery code stands in for the app: it is used up with the whole set, the app is off, every session
        ends (sign-ins still waiting for a code and reset links too) and this sign-in is recorded, all in one
        update whose condition is that the code is still unused (`user.recovery_code`: of two uses, one wins)."""
        tx.update("user.recovery_code", _profile(user_id), [
            UserItem.recovery_codes.remove(), UserItem.mfa_enabled.set(False), UserItem.totp_pending.remove(),
            UserItem.reset_generation.add(1),  # sign-ins waiting for a code, and reset links, from before end
            UserItem.sessions_revoked_at.set(revoked_at), UserItem.kept_session.remove(),
            UserItem.last_login_at.set(login_at)],
            condition=UserItem.recovery_codes.contains(digest))

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
    @staticmethod
    def _token_item(token: OneTimeToken) -> TokenItem:
        return TokenItem(*keys.token(token.token_hash), purpose=token.purpose, user_id=token.user_id,
                         email=token.email, generation=token.generation, expires_at=token.expires_at,
                         ttl=token.expires_at)

    def put_token(self, token: OneTimeToken, tx: UnitOfWork | None = None) -> None:
        if tx is None:
            self._token_item(token).save()
        else:
            tx.put("token.new", self._token_item(token))

    def put_token_once(self, token: OneTimeToken, now, tx: UnitOfWork | None = None) -> None:
        """A marker that may exist once until it expires (condition `token.fresh`): a second one while the first
        holds is refused with `InvalidMfaCode` (the markers are authenticator codes already used)."""
        from ...domain.errors import InvalidMfaCode

        condition = TokenItem.pk.does_not_exist() | (TokenItem.expires_at < now)
        refused = "This code was used already. Wait for the next code your authenticator app shows."
        if tx is None:
            from pynamodb.exceptions import PutError

            try:
                self._token_item(token).save(condition=condition)
            except PutError as exc:
                if exc.cause_response_code == "ConditionalCheckFailedException":
                    raise InvalidMfaCode(refused) from exc
                raise
        else:
            tx.put("token.fresh", self._token_item(token), condition=condition,
                   on_fail=lambda _old: InvalidMfaCode(refused))

    def peek_token(self, token_hash: str, purpose: str) -> OneTimeToken | None:
        """The token, left in place (a wrong answer may be retried), or None."""
        got = table.get(TokenItem, *keys.token(token_hash))
        if got is None or got.purpose != purpose:
            return None
        return OneTimeToken(token_hash, got.purpose, got.user_id, got.expires_at, email=got.email,
                            generation=int(got.generation or 0))

    def use_token(self, tx: UnitOfWork, token_hash: str, purpose: str) -> None:
        """The token goes with the change it allows (condition `token.unused`: of two answers only one wins)."""
        tx.delete("token.unused", TokenItem(*keys.token(token_hash)), condition=TokenItem.purpose == purpose)

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
        return OneTimeToken(token_hash, got.purpose, got.user_id, got.expires_at, email=got.email,
                            generation=int(got.generation or 0))
