"""Bulk activation invitations: queued as a job, worked off the queue, idempotent, paced, partial failures."""
from __future__ import annotations

import json

import pytest

from tests.api import support
from tests.api.support import assert_error, unique_email

stack, api = support.stack, support.api


@pytest.fixture
def firm(api):
    admin = api.signup_verified(unique_email("admin"))
    api.enrol_totp(admin)  # a partner role requires an authenticator app
    partner = api.post("/partners", {"name": "Bulk & Co"}, token=admin).json["partner_id"]
    return {"id": partner, "admin": admin}


@pytest.fixture
def fast_mail(monkeypatch):
    """The local stack's configurable send rate: the tests do not wait for SES's one mail a second."""
    from dataclasses import replace

    from chalicelib import container

    deps = container.deps()
    monkeypatch.setattr(deps, "settings", replace(deps.settings, mail_send_rate=1000.0))
    return deps


def clients_with_owners(api, firm, count: int, owners_each: int = 1) -> list[dict]:
    made = []
    for n in range(count):
        owners = [{"email": unique_email(f"c{n}o{k}-")} for k in range(owners_each)]
        r = api.post(f"/partners/{firm['id']}/clients", {"name": f"Client {n}", "plan": "starter", "owners": owners},
                     token=firm["admin"])
        assert r.status_code == 201, r.json
        made.append(r.json)
    return made


def drain(api) -> None:
    for _ in range(50):
        result = api.post("/_dev/jobs/bulk-invitations").json["result"]
        if result["messages"] == 0 and result["failed"] == 0:
            return


def test_a_bulk_job_is_queued_worked_off_and_reports_per_owner(api, firm, fast_mail):
    clients = clients_with_owners(api, firm, 30, owners_each=2)
    r = api.post(f"/partners/{firm['id']}/invitations/bulk", {"client_ids": [c["client_id"] for c in clients]},
                 token=firm["admin"])
    assert r.status_code == 202 and r.json["status"] == "queued" and r.json["total"] == 60
    job = f"/partners/{firm['id']}/jobs/{r.json['job_id']}"
    assert api.get(job, token=firm["admin"]).json["status"] == "queued"

    drain(api)

    done = api.get(f"{job}?limit=200", token=firm["admin"]).json
    assert (done["status"], done["succeeded"], done["failed"]) == ("done", 60, 0)
    assert len(done["results"]) == 60 and {r["status"] for r in done["results"]} == {"sent"}
    owners = [o["email"] for c in clients for o in c["owners"]]
    assert all(len(api.mails_to(email)) == 1 for email in owners)
    row = api.get(f"/partners/{firm['id']}/clients/{clients[0]['client_id']}", token=firm["admin"]).json
    assert {o["activation_status"] for o in row["owners"]} == {"invited"}
    result = next(r for r in done["results"] if r["client_id"] == clients[0]["client_id"])
    invitation = api.get(f"/accounts/{clients[0]['client_id']}/invitations/{result['invitation_id']}",
                         token=firm["admin"]).json
    assert (invitation["role"], invitation["delivery_status"], invitation["partner_id"]) == ("owner", "sent", firm["id"])
    assert invitation["expires_at"]
    # a second job over the same clients sends nothing new
    again = api.post(f"/partners/{firm['id']}/invitations/bulk", {"client_ids": [clients[0]["client_id"]]},
                     token=firm["admin"]).json
    drain(api)
    second = api.get(f"/partners/{firm['id']}/jobs/{again['job_id']}", token=firm["admin"]).json
    assert second["status"] == "done" and {r["status"] for r in second["results"]} == {"already_pending"}


def test_unknown_or_foreign_clients_are_refused_before_anything_is_queued(api, firm):
    other = api.post("/partners", {"name": "Other"}, token=api.signup_verified(unique_email("x"))).json
    assert other["partner_id"]
    r = api.post(f"/partners/{firm['id']}/invitations/bulk", {"client_ids": ["acc_nope"]}, token=firm["admin"])
    assert_error(r, 400, "validation_error")


def test_a_message_delivered_twice_mails_nobody_twice(api, firm, fast_mail):
    from chalicelib.services import bulk

    clients = clients_with_owners(api, firm, 3)
    job = api.post(f"/partners/{firm['id']}/invitations/bulk", {"client_ids": [c["client_id"] for c in clients]},
                   token=firm["admin"]).json
    message = {"job_id": job["job_id"], "partner_id": firm["id"], "form_id": None,
               "client_ids": [c["client_id"] for c in clients]}
    pacer = bulk.Pacer(1000)
    first = bulk.handle_message(fast_mail, message, pacer)
    second = bulk.handle_message(fast_mail, message, pacer)
    assert (first["sent"], second["sent"], second["skipped"]) == (3, 0, 3)
    assert all(len(api.mails_to(c["owners"][0]["email"])) == 1 for c in clients)
    state = api.get(f"/partners/{firm['id']}/jobs/{job['job_id']}", token=firm["admin"]).json
    assert (state["succeeded"], state["status"]) == (3, "done")
    drain(api)  # the queued copy of the message is a third delivery: still nothing twice
    assert all(len(api.mails_to(c["owners"][0]["email"])) == 1 for c in clients)


def test_a_delivery_that_died_before_its_mail_mails_on_the_next_one(api, firm, fast_mail, monkeypatch):
    from chalicelib.services import bulk
    from chalicelib.services.invitations import inviter

    [client] = clients_with_owners(api, firm, 1)
    job = api.post(f"/partners/{firm['id']}/invitations/bulk", {"client_ids": [client["client_id"]]},
                   token=firm["admin"]).json
    message = {"job_id": job["job_id"], "partner_id": firm["id"], "form_id": None, "client_ids": [client["client_id"]]}
    real = inviter.send_only

    def crash(*_args, **_kwargs):
        raise RuntimeError("the worker was stopped")

    monkeypatch.setattr(inviter, "send_only", crash)
    with pytest.raises(RuntimeError):
        bulk.handle_message(fast_mail, message, bulk.Pacer(1000))
    monkeypatch.setattr(inviter, "send_only", real)
    bulk.handle_message(fast_mail, message, bulk.Pacer(1000))
    mails = api.mails_to(client["owners"][0]["email"])
    assert len(mails) == 1
    link = mails[0]["links"][0].rsplit("/", 1)[1]
    assert api.get(f"/invitations/{link}").json["status"] == "pending"


def test_only_the_failed_message_of_a_batch_is_reported_back(api, firm, fast_mail):
    from chalicelib.services import bulk

    [client] = clients_with_owners(api, firm, 1)
    job = api.post(f"/partners/{firm['id']}/invitations/bulk", {"client_ids": [client["client_id"]]},
                   token=firm["admin"]).json
    good = {"job_id": job["job_id"], "partner_id": firm["id"], "form_id": None, "client_ids": [client["client_id"]]}
    event = {"Records": [
        {"messageId": "good-1", "receiptHandle": "h1", "body": json.dumps(good), "attributes": {},
         "messageAttributes": {}, "eventSource": "aws:sqs"},
        {"messageId": "poison-2", "receiptHandle": "h2", "body": "{not json", "attributes": {},
         "messageAttributes": {}, "eventSource": "aws:sqs"}]}
    report = bulk.handle_batch(fast_mail, event)
    assert report == {"batchItemFailures": [{"itemIdentifier": "poison-2"}]}
    assert len(api.mails_to(client["owners"][0]["email"])) == 1


def test_a_poison_message_ends_in_the_dead_letter_queue(api, fast_mail):
    import boto3

    from chalicelib import container

    sqs = boto3.client("sqs", region_name="us-east-1")
    queue = container.config().bulk_queue_url
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "0"})
    try:
        sqs.send_message(QueueUrl=queue, MessageBody="{not json at all")
        for _ in range(8):
            api.post("/_dev/jobs/bulk-invitations")
        dlq = sqs.get_queue_url(QueueName=queue.rsplit("/", 1)[1] + "-dlq")["QueueUrl"]
        dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
        assert [m["Body"] for m in dead] == ["{not json at all"]
    finally:
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "30"})


def test_bulk_sending_has_its_own_daily_limit_per_partner(api, firm, fast_mail, monkeypatch):
    from dataclasses import replace

    monkeypatch.setattr(fast_mail, "settings", replace(fast_mail.settings, bulk_invites_per_partner_per_day=2))
    clients = clients_with_owners(api, firm, 3)
    job = api.post(f"/partners/{firm['id']}/invitations/bulk", {"client_ids": [c["client_id"] for c in clients]},
                   token=firm["admin"]).json
    drain(api)
    done = api.get(f"/partners/{firm['id']}/jobs/{job['job_id']}", token=firm["admin"]).json
    assert (done["succeeded"], done["failed"], done["status"]) == (2, 1, "done")
    assert [r["error"] for r in done["results"] if r["status"] == "failed"] == ["rate_limited"]


def test_mail_is_paced_to_the_rate_allowed():
    from chalicelib.services.bulk import Pacer

    slept, now = [], [0.0]
    pacer = Pacer(4.0, sleep=lambda s: (slept.append(s), now.__setitem__(0, now[0] + s)), clock=lambda: now[0])
    for _ in range(9):
        pacer.wait()
    assert now[0] == pytest.approx(2.0)  # nine sends at four a second: the ninth at two seconds


def test_the_send_rate_is_read_from_ses_at_run_time(fast_mail, monkeypatch):
    from dataclasses import replace

    from chalicelib.services import bulk

    monkeypatch.setattr(fast_mail, "settings", replace(fast_mail.settings, mail_send_rate=None))
    assert bulk.send_rate(fast_mail) == 1.0  # moto's SES reports one mail a second

