"""Configuration, read from the environment (set per stage in .chalice/config.json or by `make run`)."""
from __future__ import annotations

import os
import hashlib
from dataclasses import dataclass

from .domain.emails import normalize_email


@dataclass(frozen=True)
class Config:
    stage: str
    region: str
    table_name: str
    endpoint_url: str | None
    user_pool_id: str
    user_pool_client_id: str
    jwks_url: str
    token_issuer: str
    mail_from: str
    ses_configuration_set: str | None
    public_base_url: str
    reviewer_emails: frozenset[str]
    cursor_secret: bytes
    log_level: str
    bulk_queue_url: str
    mail_send_rate: float | None
    export_bucket: str
    mail_queue: str = ""
    app_url: str = ""  # where people use Latchkey once they have access (the page after accepting links to it)
    rate_limits: tuple = ()  # (setting, value) pairs that replace the services' default limits

    @property
    def is_local(self) -> bool:
        return self.stage == "local"


def load(env: dict | None = None) -> Config:
    env = os.environ if env is None else env
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    endpoint = env.get("AWS_ENDPOINT_URL") or None
    pool = env.get("USER_POOL_ID", "")
    issuer = env.get("TOKEN_ISSUER") or f"https://cognito-idp.{region}.amazonaws.com/{pool}"
    jwks_base = endpoint.rstrip("/") + f"/{pool}" if endpoint else issuer
    return Config(
        stage=env.get("STAGE", "dev"),  # never "local" by accident: that stage opens /_dev
        region=region,
        table_name=env.get("TABLE_NAME", "latchkey"),
        endpoint_url=endpoint,
        user_pool_id=pool,
        user_pool_client_id=env.get("USER_POOL_CLIENT_ID", ""),
        jwks_url=env.get("JWKS_URL") or f"{jwks_base}/.well-known/jwks.json",
        token_issuer=issuer,
        mail_from=env.get("MAIL_FROM", "Latchkey <no-reply@latchkey.example>"),
        ses_configuration_set=env.get("SES_CONFIGURATION_SET") or None,
        public_base_url=(env.get("PUBLIC_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
        reviewer_emails=frozenset(normalize_email(e) for e in env.get("PLATFORM_REVIEWER_EMAILS", "").split(",")
                                  if e.strip()),
        cursor_secret=_cursor_secret(env),
        log_level=env.get("LOG_LEVEL") or "INFO",
        bulk_queue_url=env.get("BULK_INVITATIONS_QUEUE_URL", ""),
        mail_send_rate=float(env["MAIL_SEND_RATE"]) if env.get("MAIL_SEND_RATE") else None,
        export_bucket=env.get("EXPORT_BUCKET", ""),
        mail_queue=mail_queue_name(env),
        app_url=(env.get("APP_URL") or "").strip(),
        rate_limits=_rate_limits(env.get("RATE_LIMITS") or ""),
    )


def _rate_limits(raw: str) -> tuple:
    """`RATE_LIMITS`: a JSON object of limit settings (e.g. `{"signups_per_source_per_hour": 50}`)."""
    import json

    if not raw.strip():
        return ()
    values = json.loads(raw)
    if not isinstance(values, dict) or not all(isinstance(v, int) and v > 0 for v in values.values()):
        raise ValueError("RATE_LIMITS must be a JSON object of positive whole numbers")
    return tuple(sorted(values.items()))


def mail_queue_name(env=None) -> str:
    """The SQS queue of the identity routes' mail (`latchkey-<stage>-mail`, as infra/resources.yaml names it)."""
    env = os.environ if env is None else env
    return env.get("MAIL_QUEUE") or f"latchkey-{env.get('STAGE', 'dev')}-mail"


def _cursor_secret(env) -> bytes:
    """The key list cursors are signed with. Deployed stages set CURSOR_SECRET; without it a key is
    derived from the stack's names, stable across containers but not secret."""
    given = env.get("CURSOR_SECRET")
    if given:
        return given.encode()
    seed = "|".join((env.get("TABLE_NAME", ""), env.get("USER_POOL_ID", ""), env.get("USER_POOL_CLIENT_ID", "")))
    return hashlib.sha256(b"latchkey-cursors|" + seed.encode()).digest()
