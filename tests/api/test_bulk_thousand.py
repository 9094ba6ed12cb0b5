"""The size the firm's story names, in a module of its own (its own moto stack, and a worker of its own while
the other modules run)."""
from __future__ import annotations

from tests.api import support
from tests.api.support import unique_email
from tests.api.test_bulk import drain, fast_mail, firm  # noqa: F401  (fixtures)

stack, api = support.stack, support.api


def test_a_thousand_client_job_runs_to_done_against_moto_with_progress_and_one_mail_each(api, firm, fast_mail):  # noqa: F811
    """The size the firm's story names: 1,000 clients, one owner each, one job; progress shows while it runs."""
    from collections import Counter

    from moto.ses.models import ses_backends

    from chalicelib.services import bulk

    clients = []
    for n in range(1000):
        r = api.post(f"/partners/{firm['id']}/clients",
                     {"name": f"Client {n}", "plan": "starter", "owners": [{"email": unique_email(f"k{n}-")}]},
                     token=firm["admin"])
        assert r.status_code == 201, r.json
        clients.append(r.json)
    owners = {c["owners"][0]["email"] for c in clients}
    r = api.post(f"/partners/{firm['id']}/invitations/bulk", {"client_ids": [c["client_id"] for c in clients]},
                 token=firm["admin"])
    assert r.status_code == 202 and r.json["total"] == 1000, r.json
    job = f"/partners/{firm['id']}/jobs/{r.json['job_id']}"

    assert bulk.drain(fast_mail, max_batches=1)["messages"] == 10  # one SQS batch: ten messages
    midway = api.get(job, token=firm["admin"]).json
    assert midway["status"] == "running" and 0 < midway["succeeded"] < 1000 and midway["failed"] == 0, midway

    drain(api)
    done = api.get(job, token=firm["admin"]).json
    assert (done["status"], done["total"], done["succeeded"], done["failed"]) == ("done", 1000, 1000, 0)
    seen, cursor = [], None
    while True:
        page = api.get(f"{job}?limit=200" + (f"&cursor={cursor}" if cursor else ""), token=firm["admin"]).json
        seen += page["results"]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert len(seen) == 1000 and {x["status"] for x in seen} == {"sent"}
    assert {x["email"] for x in seen} == owners

    sent = Counter(to for backend in ses_backends.values() for region in backend.values()
                   for message in region.sent_messages for to in message.destinations["ToAddresses"]
                   if to in owners)
    assert set(sent) == owners and set(sent.values()) == {1}  # everyone once, nobody twice

    invited = api.get(f"/partners/{firm['id']}/clients?status=invited&limit=100", token=firm["admin"]).json
    assert len(invited["items"]) == 100 and invited["next_cursor"]
    assert api.get(f"/partners/{firm['id']}/clients?status=not_invited", token=firm["admin"]).json["items"] == []
