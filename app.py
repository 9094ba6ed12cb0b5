"""Latchkey's entry point: routes and event handlers only. Everything else lives in chalicelib/."""
from chalice import Chalice, Rate

from chalicelib.api import (routes_accounts, routes_dev, routes_identity, routes_invitations, routes_meta,
                            routes_pages)

app = Chalice(app_name="latchkey")
app.api.cors = False

for blueprint in (routes_meta, routes_identity, routes_accounts, routes_invitations, routes_pages, routes_dev):
    app.register_blueprint(blueprint.bp)


@app.schedule(Rate(1, unit=Rate.HOURS), name="expire-invitations")
def expire_invitations(event):
    """Hourly: pending invitations past their expiry become expired (locally: POST /_dev/jobs/expire-invitations)."""
    from chalicelib import container
    from chalicelib.services import sweep

    remaining_ms = event.context.get_remaining_time_in_millis() if getattr(event, "context", None) else 30_000
    # Stop with a margin before Lambda's timeout: what is left waits for the next run.
    return sweep.expire_invitations(container.deps(), time_budget_seconds=max(1.0, remaining_ms / 1000 - 5))
