"""The MailQueue port on SQS: the identity routes' mail jobs, done by the `deliver-mail` function after the reply."""
from __future__ import annotations

import json
import threading


class SqsMailQueue:
    def __init__(self, client_factory, queue_name: str) -> None:
        self._client_factory = client_factory
        self.queue_name = queue_name
        self._url: str | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        with self._lock:
            if self._url is None:  # once per container
                self._url = self._client_factory().get_queue_url(QueueName=self.queue_name)["QueueUrl"]
            return self._url

    def put(self, job: dict) -> None:
        self._client_factory().send_message(QueueUrl=self.url, MessageBody=json.dumps(job, sort_keys=True))

    # the local stage's delivery (Lambda's event source mapping does this in AWS) ---------------------------
    def drain(self, handle, wait_seconds: int = 0, max_rounds: int = 100) -> int:
        """Receive what is queued and hand each job to `handle`, deleting it once handled; returns how many."""
        client, done = self._client_factory(), 0
        for _ in range(max_rounds):
            got = client.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds,
                                         VisibilityTimeout=30).get("Messages", [])
            if not got:
                return done
            for message in got:
                handle(json.loads(message["Body"]))
                client.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
                done += 1
            wait_seconds = 0
        return done

    def in_flight(self) -> int:
        """Messages received by some worker and not yet deleted."""
        attributes = self._client_factory().get_queue_attributes(
            QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))
