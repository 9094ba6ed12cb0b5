"""Latchkey's entry point: routes and event handlers only. Everything else lives in chalicelib/."""
from chalice import Chalice, Rate

import os

from chalicelib.config import mail_queue_name
from chalicelib.api import (routes_accounts, routes_applications, routes_dev, routes_identity, routes_invitations,
                            routes_meta, routes_pages, routes_partners)

app = Chalice(app_name="latchkey")
app.api.cors = False

for blueprint in (routes_meta, routes_identity, routes_accounts, routes_applications, routes_invitations,
                  routes_partners, routes_pages, routes_dev):
    app.register_blueprint(blueprint.bp)

if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    # Lambda's init phase: the one DynamoDB client is built before the first request, where SnapStart
    # and provisioned concurrency keep it. Locally and in tests everything stays lazy.
    from chalicelib import container

    container.warm()
elif os.environ.get("LOCAL_MAIL_WORKER") == "1":  # `make run`: no Lambda polls the mail queue there
    from chalicelib import local_worker

    local_worker.start()


@app.schedule(Rate(1, unit=Rate.HOURS), name="expire-invitations")
def expire_invitations(event):
    """Hourly: pending invitations past their expiry become expired (locally: POST /_dev/jobs/expire-invitations)."""
    from chalicelib import container
    from chalicelib.services.invitations import expiry

    remaining_ms = event.context.get_remaining_time_in_millis() if getattr(event, "context", None) else 30_000
    # Stop with a margin before Lambda's timeout: what is left waits for the next run.
    return expiry.sweep(container.deps(), time_budget_seconds=max(1.0, remaining_ms / 1000 - 5))


@app.on_sqs_message(queue=mail_queue_name(), batch_size=1, name="deliver-mail")
def deliver_mail(event):
    """The identity routes' mail, sent after their response (locally: `make run` polls the queue)."""
    import json

    from chalicelib import container
    from chalicelib.services import deliveries

    for record in event:  # one a batch: a failure retries that message alone, then the dead-letter queue
        deliveries.deliver(container.deps(), json.loads(record.body))
