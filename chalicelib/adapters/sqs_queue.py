"""The bulk-invitation queue on SQS: messages are JSON bodies, sent ten to a call."""
from __future__ import annotations

import json
import uuid


class SqsQueue:
    def __init__(self, client_factory, queue_url: str) -> None:
        self._client_factory = client_factory
        self.queue_url = queue_url

    def send_many(self, bodies: list[dict]) -> None:
        """Every body, in SendMessageBatch calls of ten; a partly refused batch raises (the job is not started)."""
        sqs = self._client_factory()
        for start in range(0, len(bodies), 10):
            entries = [{"Id": uuid.uuid4().hex, "MessageBody": json.dumps(body, separators=(",", ":"))}
                       for body in bodies[start:start + 10]]
            failed = sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries).get("Failed") or []
            if failed:
                raise RuntimeError(f"the queue refused {len(failed)} message(s): {failed[0].get('Code')}")

    def receive(self, max_messages: int = 10) -> list[dict]:
        """Local stage only (the queue drained by `make run`): messages in the shape Lambda hands them over."""
        got = self._client_factory().receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=max_messages,
                                                     WaitTimeSeconds=0, AttributeNames=["All"])
        return [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                 "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m.get("MD5OfBody"),
                 "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:local:000000000000:bulk-invitations",
                 "awsRegion": "local"} for m in got.get("Messages", [])]

    def delete(self, receipt_handles: list[str]) -> None:
        if receipt_handles:
            self._client_factory().delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": h} for n, h in enumerate(receipt_handles)])
