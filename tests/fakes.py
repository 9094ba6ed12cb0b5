"""Fakes of the outside world (user pool, mail, clock, randomness) for service tests, and the one table on
moto in process: the table's conditional writes are the rules, so services are tested against them."""
from __future__ import annotations

import contextlib
import hashlib
import itertools
from dataclasses import dataclass
from datetime import datetime, timezone

from chalicelib.adapters.clock import FixedClock
from chalicelib.domain.errors import (InvalidCredentials, InvalidMfaCode, InvalidState, MfaSessionExpired, NotFound,
                                      Unauthenticated, UserExists, ValidationFailed)
from chalicelib.services.deps import Deps, Settings
from chalicelib.services.ports import MailMessage, SignInChallenge, SignInTokens

# Aligned to a 15-minute and a one-hour boundary, so rate windows start exactly at the start.
START = datetime(2030, 1, 7, 9, 0, 0, tzinfo=timezone.utc)
BASE_URL = "https://latchkey.test"
MIN_PASSWORD = 8


@dataclass
class PoolUser:
    email: str
    password: str
    email_verified: bool
    totp_secret: str | None = None  # handed out by start_totp
    totp_confirmed: bool = False  # its first code was right
    totp_on: bool = False  # every sign-in asks for a code


class FakeIdentity:
    """A user pool in a dict: passwords, the verified flag, opaque revocable tokens, and authenticator apps whose
    one right code per user is `code_for(user_id)` (any other code is refused, unlike moto's pool)."""

    def __init__(self) -> None:
        self.users: dict[str, PoolUser] = {}
        self.refresh_tokens: dict[str, str] = {}  # token -> user id, while it works
        self.access_tokens: dict[str, str] = {}
        self.sessions: dict[str, str] = {}  # sign-in waiting for a code -> user id, until answered
        self.fail_next_create: Exception | None = None
        self._serial = itertools.count(1)

    @staticmethod
    def _check_policy(password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise ValidationFailed(details={"password": "does not meet the password policy (at least 8 characters)"})

    def create_user(self, user_id: str, email: str, password: str, email_verified: bool) -> None:
        if self.fail_next_create is not None:
            error, self.fail_next_create = self.fail_next_create, None
            raise error
        self._check_policy(password)
        if user_id in self.users:
            raise UserExists()
        self.users[user_id] = PoolUser(email, password, email_verified)

    def set_email_verified(self, user_id: str) -> None:
        self._user(user_id).email_verified = True

    def sign_in(self, user_id: str, password: str) -> SignInTokens | SignInChallenge:
        user = self.users.get(user_id)
        if user is None or user.password != password:
            raise InvalidCredentials()
        if user.totp_on:
            session = f"session-{user_id}-{next(self._serial)}-waiting-for-a-code"
            self.sessions[session] = user_id
            return SignInChallenge(session)
        return self._tokens(user_id)

    def answer_totp(self, user_id: str, session: str, code: str) -> SignInTokens:
        if self.sessions.get(session) != user_id:  # unknown, used, or another user's
            raise MfaSessionExpired()
        if code != self.code_for(user_id):
            raise InvalidMfaCode()
        del self.sessions[session]
        return self._tokens(user_id)

    def start_totp(self, access_token: str) -> str:
        user = self._user(self._signed_in(access_token))
        user.totp_secret, user.totp_confirmed = f"FAKESECRET{next(self._serial):06d}", False
        return user.totp_secret

    def confirm_totp(self, access_token: str, code: str) -> None:
        user_id = self._signed_in(access_token)
        user = self._user(user_id)
        if user.totp_secret is None:
            raise InvalidState("Start adding the authenticator app first.")
        if code != self.code_for(user_id):
            raise InvalidMfaCode()
        user.totp_confirmed = True

    def set_totp(self, user_id: str, enabled: bool) -> None:
        user = self._user(user_id)
        if enabled and not user.totp_confirmed:
            raise InvalidState("Start adding the authenticator app first.")
        user.totp_on = enabled

    def refresh(self, refresh_token: str) -> SignInTokens:
        user_id = self.refresh_tokens.get(refresh_token)
        if user_id is None or user_id not in self.users:
            raise Unauthenticated("The refresh token is not valid; sign in again.")
        return SignInTokens(self._access(user_id), None, 3600)

    def sign_out_everywhere(self, user_id: str) -> None:
        self._user(user_id)
        for tokens in (self.refresh_tokens, self.access_tokens):
            for token in [t for t, owner in tokens.items() if owner == user_id]:
                del tokens[token]

    def set_password(self, user_id: str, password: str) -> None:
        self._check_policy(password)
        self._user(user_id).password = password

    def delete_user(self, user_id: str) -> None:
        self.users.pop(user_id, None)

    # helpers for tests -------------------------------------------------------------------------
    def code_for(self, user_id: str) -> str:
        """The one code this user's authenticator app shows (derived from its secret)."""
        secret = self._user(user_id).totp_secret or ""
        return f"{int(hashlib.sha256(secret.encode()).hexdigest(), 16) % 1_000_000:06d}"

    def _signed_in(self, access_token: str) -> str:
        if access_token not in self.access_tokens:
            raise Unauthenticated()
        return self.access_tokens[access_token]

    def _tokens(self, user_id: str) -> SignInTokens:
        refresh = f"refresh-{user_id}-{next(self._serial)}"
        self.refresh_tokens[refresh] = user_id
        return SignInTokens(self._access(user_id), refresh, 3600)

    def _user(self, user_id: str) -> PoolUser:
        if user_id not in self.users:
            raise NotFound()
        return self.users[user_id]

    def _access(self, user_id: str) -> str:
        token = f"access-{user_id}-{next(self._serial)}"
        self.access_tokens[token] = user_id
        return token


class FakeMailer:
    """Records every message instead of sending it."""

    def __init__(self) -> None:
        self.sent: list[MailMessage] = []

    def send(self, message: MailMessage) -> str:
        self.sent.append(message)
        return f"msg-{len(self.sent)}"

    def to(self, email: str) -> list[MailMessage]:
        return [m for m in self.sent if email in m.to]

    def links(self, email: str, path: str = "/") -> list[str]:
        """Links mailed to `email` whose path starts with `path`, oldest first."""
        prefix = BASE_URL + path
        return [link for m in self.to(email) for link in m.links if link.startswith(prefix)]

    def last_link(self, email: str, path: str) -> str:
        found = self.links(email, path)
        assert found, f"no {path} link was mailed to {email}"
        return found[-1]

    def last_token(self, email: str, path: str) -> str:
        return self.last_link(email, path).rsplit("/", 1)[1]


# One counter per process: ids and tokens never repeat, even across tests that share a table.
_SERIAL = itertools.count(1)


class FakeSecrets:
    """Predictable, never repeating, in creation order: `tok-000001-…`, `usr_000002`, ... (tokens are kept)."""

    def __init__(self) -> None:
        self.issued: list[str] = []

    def token(self) -> str:
        raw = f"tok-{next(_SERIAL):06d}-link-secret"
        self.issued.append(raw)
        return raw

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(_SERIAL):06d}"


TABLE, REGION = "latchkey-test", "us-east-1"
CURSOR_KEY = b"cursor key of the tests"


@contextlib.contextmanager
def moto_table():
    """moto in process with the one table (indexes, TTL) created and every model bound to it."""
    import moto

    from chalicelib.adapters.dynamo import connection

    with moto.mock_aws():
        connection.create_table(TABLE, REGION)
        yield


def make_deps(settings: Settings | None = None, start: datetime = START) -> Deps:
    """Everything a use case needs: the table (bound by `moto_table`) and fakes of the rest."""
    from chalicelib.adapters.dynamo.store import Store

    return Deps(
        store=Store(CURSOR_KEY),
        identity=FakeIdentity(),
        mailer=FakeMailer(),
        clock=FixedClock(start),
        secrets=FakeSecrets(),
        settings=settings or Settings(public_base_url=BASE_URL),
    )


def table_items(kind: str | None = None) -> list[dict]:
    """Every item of the test table (a test's look at the whole table; the service never reads it this way)."""
    from chalicelib.adapters.dynamo import connection

    client, items, start = connection.connection().client, [], None
    while True:
        page = client.scan(TableName=connection.table(), **({"ExclusiveStartKey": start} if start else {}))
        items += [i for i in page["Items"] if kind is None or i.get("kind", {}).get("S") == kind]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items
