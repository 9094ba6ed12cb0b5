"""Latchkey's entry point: routes and event handlers only. Everything else lives in chalicelib/."""
from chalice import Chalice, Rate

import os

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


@app.schedule(Rate(1, unit=Rate.HOURS), name="expire-invitations")
def expire_invitations(event):
    """Hourly: pending invitations past their expiry become expired (locally: POST /_dev/jobs/expire-invitations)."""
    from chalicelib import container
    from chalicelib.services.invitations import expiry

    remaining_ms = event.context.get_remaining_time_in_millis() if getattr(event, "context", None) else 30_000
    # Stop with a margin before Lambda's timeout: what is left waits for the next run.
    return expiry.sweep(container.deps(), time_budget_seconds=max(1.0, remaining_ms / 1000 - 5))
