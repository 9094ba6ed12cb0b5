"""The composition root: wires the adapters into the services once per Lambda container."""
from __future__ import annotations

import threading
from functools import partial

from . import config as config_module
from .adapters import aws
from .adapters.clock import SystemClock, SystemSecrets

_lock = threading.Lock()
_state: dict = {}

# One business clock per process: the local stage's /_dev/clock moves it.
clock = SystemClock()


def config() -> config_module.Config:
    if "config" not in _state:
        _state["config"] = config_module.load()
    return _state["config"]


def deps():
    """Everything the services need, built on first use."""
    with _lock:
        if "deps" not in _state:
            _state["deps"] = _build(config())
        return _state["deps"]


def verifier():
    with _lock:
        if "verifier" not in _state:
            from .adapters.access_tokens import AccessTokenVerifier

            cfg = config()
            _state["verifier"] = AccessTokenVerifier(cfg.jwks_url, cfg.token_issuer, cfg.user_pool_client_id)
        return _state["verifier"]


def warm() -> None:
    """Lambda's init phase: build the services and the one DynamoDB client before the first request."""
    from .adapters.dynamo import connection

    deps()
    connection.warm()


def _build(cfg: config_module.Config):
    from . import logs
    from .adapters.cognito import CognitoIdentity
    from .adapters.dynamo import connection
    from .adapters.dynamo.store import Store
    from .adapters.mail_queue import SqsMailQueue
    from .adapters.ses_mailer import RecordingMailer, SesMailer
    from .services.deps import Deps, Settings

    logs.configure(cfg.log_level)
    connection.bind(cfg.table_name, cfg.region, cfg.endpoint_url)
    mailer = SesMailer(partial(aws.client, "sesv2", cfg.region, cfg.endpoint_url), cfg.mail_from,
                       cfg.ses_configuration_set)
    if cfg.is_local:
        from .adapters.dynamo.outbox import DynamoOutbox

        mailer = RecordingMailer(mailer, DynamoOutbox())
    limits = {name: value for name, value in cfg.rate_limits if name in Settings.__dataclass_fields__
              and isinstance(getattr(Settings, name, None), int)}
    settings = Settings(public_base_url=cfg.public_base_url, reviewer_emails=cfg.reviewer_emails,
                        mail_send_rate=cfg.mail_send_rate, **limits)
    identity = CognitoIdentity(partial(aws.client, "cognito-idp", cfg.region, cfg.endpoint_url),
                               cfg.user_pool_id, cfg.user_pool_client_id)
    from .adapters.s3_exports import S3Exports
    from .adapters.sqs_queue import SqsQueue

    mail_queue = SqsMailQueue(partial(aws.client, "sqs", cfg.region, cfg.endpoint_url), cfg.mail_queue)
    queue = SqsQueue(partial(aws.client, "sqs", cfg.region, cfg.endpoint_url), cfg.bulk_queue_url)
    exports = S3Exports(partial(aws.client, "s3", cfg.region, cfg.endpoint_url), cfg.export_bucket)
    return Deps(store=Store(cfg.cursor_secret), identity=identity, mailer=mailer, clock=clock,
                secrets=SystemSecrets(), settings=settings, queue=queue, exports=exports, mail_queue=mail_queue)


def reset() -> None:
    """Forget everything built (tests switch environments between cases)."""
    with _lock:
        _state.clear()
        aws.reset()
        clock.reset()
