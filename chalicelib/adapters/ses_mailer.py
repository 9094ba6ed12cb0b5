"""The Mailer port on SESv2, simple content (we render our own text and HTML parts)."""
from __future__ import annotations

import logging
import random
import re
import time

from ..services.ports import MailMessage

log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[\r\n\x00]")


class SesMailer:
    def __init__(self, client_factory, sender: str, configuration_set: str | None = None,
                 attempts: int = 5) -> None:
        self._client_factory = client_factory
        self.sender = sender
        self.configuration_set = configuration_set
        self.attempts = attempts

    def send(self, message: MailMessage) -> str:
        for value in [message.subject, self.sender, *message.to]:
            if _UNSAFE.search(value):
                raise ValueError("header injection attempt refused")
        request = {
            "FromEmailAddress": self.sender,
            "Destination": {"ToAddresses": list(message.to)},
            "Content": {"Simple": {
                "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": message.text, "Charset": "UTF-8"},
                         "Html": {"Data": message.html, "Charset": "UTF-8"}},
            }},
        }
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        for attempt in range(self.attempts):
            try:
                return self._client_factory().send_email(**request)["MessageId"]
            except Exception as exc:
                code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
                if code not in ("Throttling", "ThrottlingException", "TooManyRequestsException") \
                        or attempt == self.attempts - 1:
                    raise
                # Exponential backoff with full jitter (SES send-rate throttling).
                time.sleep(random.uniform(0, 0.1 * 2 ** attempt))
        raise RuntimeError("unreachable")


    def send_rate(self) -> float:
        """Mails per second this SES account may send, read at run time (SESv2 GetAccount; SES v1's send quota
        where GetAccount is not offered)."""
        try:
            return float(self._client_factory().get_account()["SendQuota"]["MaxSendRate"])
        except Exception:  # an endpoint without GetAccount (moto): the classic API has the same figure
            log.info("SESv2 GetAccount unavailable; reading the SES send quota instead")
        return float(self._quota_client().get_send_quota()["MaxSendRate"])

    def _quota_client(self):
        from . import aws

        client = self._client_factory()
        return aws.client("ses", client.meta.region_name,
                          None if "amazonaws.com" in client.meta.endpoint_url else client.meta.endpoint_url)


class RecordingMailer:
    """Local stage only: sends through the real mailer, then keeps a copy for /_dev/outbox."""

    def __init__(self, inner, outbox) -> None:
        self.inner = inner
        self.outbox = outbox

    def send(self, message: MailMessage) -> str:
        message_id = self.inner.send(message)
        self.outbox.record(message_id, message)
        return message_id

    def send_rate(self) -> float:
        return self.inner.send_rate()
