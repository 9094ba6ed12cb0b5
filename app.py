"""Latchkey's entry point: routes and event handlers only. Everything else lives in chalicelib/."""
from chalice import Chalice, Rate

import os

from chalicelib.api.http import framework_errors
from chalicelib.api import (routes_accounts, routes_applications, routes_clients, routes_dev, routes_identity,
                            routes_invitations, routes_meta, routes_pages, routes_partners)
from chalicelib.config import mail_queue_name

app = Chalice(app_name="latchkey")
app.api.cors = False

for blueprint in (routes_meta, routes_identity, routes_accounts, routes_applications, routes_invitations,
                  routes_partners, routes_clients, routes_pages, routes_dev):
    app.register_blueprint(blueprint.bp)
app.register_middleware(framework_errors, "http")

if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    # Lambda's init phase: the one DynamoDB client is built before the first request, where SnapStart
    # and provisioned concurrency keep it. Locally and in tests everything stays lazy.
    from chalicelib import container

    container.warm()
elif os.environ.get("LOCAL_MAIL_WORKER") == "1":  # `make run`: no Lambda polls the mail queue there
    from chalicelib import local_worker

    local_worker.start()


@app.schedule(Rate(15, unit=Rate.MINUTES), name="expire-invitations")
def expire_invitations(event):
    """Every 15 minutes: pending invitations past their expiry become expired, so the client list's `expired`
    filter follows closely (everything else reads expiry from `expires_at` at once; locally:
    POST /_dev/jobs/expire-invitations). Four Queries a run when nothing is due."""
    from chalicelib import container
    from chalicelib.services.invitations import expiry

    remaining_ms = event.context.get_remaining_time_in_millis() if getattr(event, "context", None) else 30_000
    # Stop with a margin before Lambda's timeout: what is left waits for the next run.
    return expiry.sweep(container.deps(), time_budget_seconds=max(1.0, remaining_ms / 1000 - 5))


@app.on_sqs_message(queue="latchkey-bulk-invitations", batch_size=10, name="bulk-invitations")
def bulk_invitations(event):
    """Bulk activation invitations, up to ten queue messages at a time; only the failed ones go back to the queue
    (locally: POST /_dev/jobs/bulk-invitations, which `make run` calls by itself)."""
    from chalicelib import container, logs
    from chalicelib.services import bulk

    context = getattr(event, "context", None)
    logs.start_request(getattr(context, "aws_request_id", None))
    return bulk.handle_batch(container.deps(), event.to_dict(), context)


@app.on_sns_message(topic="latchkey-mail-events", name="mail-events")
def mail_events(event):
    """SES bounces and complaints, published by the configuration set (locally: POST /_dev/mail-events)."""
    import json

    from chalicelib import container, logs
    from chalicelib.services import mail_events as events

    logs.start_request(getattr(getattr(event, "context", None), "aws_request_id", None))
    try:
        notification = json.loads(event.message)
    except ValueError:
        return {"ignored": "not JSON"}  # a poison event is dropped, never retried in a loop
    return events.handle(container.deps(), notification)


@app.on_sqs_message(queue=mail_queue_name(), batch_size=1, name="deliver-mail")
def deliver_mail(event):
    """The identity routes' mail, sent after their response (locally: `make run` polls the queue)."""
    import json

    from chalicelib import container
    from chalicelib.services import deliveries

    for record in event:  # one a batch: a failure retries that message alone, then the dead-letter queue
        deliveries.deliver(container.deps(), json.loads(record.body))
