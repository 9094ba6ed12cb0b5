"""Latchkey's entry point: routes and event handlers only. Everything else lives in chalicelib/."""
from chalice import Chalice

from chalicelib.api import routes_accounts, routes_dev, routes_identity, routes_meta, routes_pages

app = Chalice(app_name="latchkey")
app.api.cors = False

for blueprint in (routes_meta, routes_identity, routes_accounts, routes_pages, routes_dev):
    app.register_blueprint(blueprint.bp)
