"""No enumeration by timing: the public identity routes make the same AWS calls, of the same kinds, whether or
not the email has a user (SECURITY.md 12). The mail they cause is sent after the response, by the queue's worker.

Times themselves are measured by `make bench` (a printed figure, not a test); this holds the cause.
"""
from __future__ import annotations

import threading
from collections import Counter

import pytest

from tests.api.support import api, stack, unique_email  # noqa: F401  (fixtures)

PASSWORD = "correct horse battery"


class AwsCalls:
    """Every call the app's AWS clients make (DynamoDB, the user pool, the mail queue, SES), by service and name."""

    def __init__(self):
        self.calls: Counter = Counter()
        self._lock = threading.Lock()

    def _record(self, model, **_):
        with self._lock:
            self.calls[(model.service_model.service_name, model.name)] += 1

    def clients(self):
        from chalicelib import container
        from chalicelib.adapters import aws
        from chalicelib.adapters.dynamo import connection

        cfg = container.config()
        return [connection.connection().client] + [aws.client(s, cfg.region, cfg.endpoint_url)
                                                   for s in ("cognito-idp", "sqs", "sesv2")]

    def __enter__(self):
        for client in self.clients():
            client.meta.events.register("before-call", self._record, unique_id="enumeration-counter")
        return self

    def __exit__(self, *_):
        for client in self.clients():
            client.meta.events.unregister("before-call", unique_id="enumeration-counter")


def calls_of(api, path: str, body: dict, expect: int) -> Counter:  # noqa: F811
    with AwsCalls() as counter:
        response = api.post(path, body)
    assert response.status_code == expect, response.json
    return counter.calls


@pytest.fixture(scope="module")
def known(stack):  # noqa: F811
    """A verified user, and one request on every route first so that every client is built."""
    email = unique_email("known")
    stack.signup_verified(email, password=PASSWORD)
    stack.post("/auth/password/forgot", {"email": email})
    stack.post("/auth/login", {"email": email, "password": "warm-up guess"})
    stack.mails_to(email)
    return email


def unconfirmed(api) -> str:  # noqa: F811
    """An address with a sign-up whose link was never followed."""
    email = unique_email("unconfirmed")
    assert api.post("/auth/signup", {"email": email, "password": PASSWORD, "first_name": "U",
                                     "last_name": "C"}).status_code == 202
    api.mails_to(email)
    return email


def test_signup_makes_the_same_calls_for_a_taken_a_pending_and_a_free_address(api, known):  # noqa: F811
    def signup(email):
        return calls_of(api, "/auth/signup", {"email": email, "password": "another password", "first_name": "Eve",
                                              "last_name": "M"}, 202)

    taken, pending, free = signup(known), signup(unconfirmed(api)), signup(unique_email("free"))
    assert taken == pending == free
    assert ("sqs", "SendMessage") in free and not any(service == "sesv2" for service, _ in free)


def test_a_wrong_password_costs_the_same_for_a_known_and_an_unknown_address(api, known):  # noqa: F811
    def login(email):
        return calls_of(api, "/auth/login", {"email": email, "password": "a wrong guess"}, 401)

    for_known, for_unknown = login(known), login(unique_email("nobody"))
    assert for_known == for_unknown
    assert for_known[("cognito-idp", "AdminInitiateAuth")] == 1  # the user pool is asked in both cases


def test_forgot_password_costs_the_same_for_a_known_and_an_unknown_address_and_mails_after_the_reply(api, known):  # noqa: F811,E501
    for_known = calls_of(api, "/auth/password/forgot", {"email": known}, 202)
    for_unknown = calls_of(api, "/auth/password/forgot", {"email": unique_email("nobody")}, 202)
    assert for_known == for_unknown
    assert not any(service == "sesv2" for service, _ in for_known)
    # the mail still reaches the real owner once the queue's worker has run
    assert api.last_link(known, "/reset/")


def test_the_deliver_mail_function_sends_what_the_identity_routes_queued(api):  # noqa: F811
    import json

    import boto3

    from chalicelib import container

    # GIVEN a forgotten-password request, whose job waits on the mail queue
    known = unique_email("queued")
    api.signup_verified(known)
    assert api.post("/auth/password/forgot", {"email": known}).status_code == 202
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.get_queue_url(QueueName=container.config().mail_queue)["QueueUrl"]
    [message] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert json.loads(message["Body"]) == {"email": known, "job": "forgot"}  # the job names no user
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    before = len(api.mails_to(known))
    # WHEN Lambda hands it to the function
    event = api.client.events.generate_sqs_event(message_bodies=[message["Body"]], queue_name="latchkey-local-mail")
    api.client.lambda_.invoke("deliver-mail", event)
    # THEN the owner gets the reset link
    assert len(api.mails_to(known)) == before + 1
