"""The local stage's tools (/_dev/...): they work under `make run` and do not exist in any other stage."""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone

import pytest

import app as app_module
from chalicelib import container
from chalicelib.api.http import LOCAL_ONLY, ROUTES
from chalicelib.services import jobs
from tests.api import support
from tests.api.support import assert_error, chalice_client, unique_email
from tests.conftest import BASE_URL, Api

DEV_ROUTES = [spec for spec in ROUTES if spec.scope == LOCAL_ONLY]
PASSWORD = "correct horse battery"

# One moto stack for the module; every test makes its own users.
stack, api = support.stack, support.api



@pytest.fixture
def in_stage(monkeypatch, tmp_path, stack):  # moto stays on: nothing could reach AWS
    """A client of the app deployed with STAGE set to the given value."""
    def build(stage: str | None) -> Api:
        if stage is None:
            monkeypatch.delenv("STAGE", raising=False)
        else:
            monkeypatch.setenv("STAGE", stage)
        container.reset()
        return Api(chalice_client(tmp_path))  # no project config: the environment is the one set here

    yield build
    container.reset()  # the next test reads the local stage's configuration again


def parse_ts(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def signup(api, email: str, **changes):
    body = {"email": email, "password": PASSWORD, "first_name": "Ada", "last_name": "Lovelace", **changes}
    r = api.post("/auth/signup", body)
    assert r.status_code == 202, r.json
    return r


def test_every_dev_route_is_declared_local_only():
    paths = {(spec.method, spec.path) for spec in DEV_ROUTES}
    served = {(m, p) for p, entries in app_module.app.routes.items() for m in entries if p.startswith("/_dev/")}
    assert served == paths
    assert {("GET", "/_dev/outbox"), ("GET", "/_dev/mail"), ("POST", "/_dev/clock"), ("DELETE", "/_dev/clock"),
            ("POST", "/_dev/jobs/{name}")} <= paths


# Outbox and mail page -----------------------------------------------------------------------------------

def test_the_outbox_lists_the_mail_sent_to_an_address_newest_first_with_absolute_links(api):
    # GIVEN two mails to one address (a verification, then a reset) and one to another
    email, other = unique_email(), unique_email()
    signup(api, email)
    signup(api, other)
    token = api.last_link(email, "/verify/").rsplit("/", 1)[1]
    api.post("/auth/verify-email", {"token": token})
    api.post("/auth/password/forgot", {"email": email})
    # WHEN the outbox is read for that address, written as a person might
    r = api.get(f"/_dev/outbox?to=%20{email.upper()}")
    # THEN it holds exactly their two mails, newest first, with every field
    assert r.status_code == 200
    items = r.json["items"]
    assert [m["to"] for m in items] == [[email], [email]]
    assert "reset" in items[0]["links"][0] and "/verify/" in items[1]["links"][0]
    assert parse_ts(items[0]["sent_at"]) >= parse_ts(items[1]["sent_at"])
    for mail in items:
        assert {"message_id", "to", "subject", "text", "html", "links", "sent_at"} <= set(mail)
        assert mail["subject"] and mail["text"] and mail["html"]
        assert all(isinstance(link, str) and link.startswith(BASE_URL + "/") for link in mail["links"])
    # AND without `to` it lists everyone's mail
    everyone = api.get("/_dev/outbox").json["items"]
    assert {m["message_id"] for m in items} <= {m["message_id"] for m in everyone}
    assert any(m["to"] == [other] for m in everyone)


def test_the_mail_page_lists_the_mail_with_clickable_links(api):
    email = unique_email()
    signup(api, email)
    link = api.last_link(email, "/verify/")
    r = api.get(f"/_dev/mail?to={email}")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    page = r.body.decode()
    assert f'href="{link}"' in page and email in page


def test_the_mail_page_has_a_strict_content_security_policy_and_sends_no_referrer(api):
    signup(api, unique_email())  # at least one mail, whose styles the page must allow
    r = api.get("/_dev/mail")
    assert r.status_code == 200
    assert r.headers["Referrer-Policy"] == "no-referrer"
    directives = [d.split() for d in r.headers["Content-Security-Policy"].split(";") if d.strip()]
    csp = {d[0]: d[1:] for d in directives}
    assert csp["default-src"] == ["'none'"]
    assert csp.get("frame-ancestors") == ["'none'"]
    assert csp["script-src"] == ["'none'"]
    for directive, sources in csp.items():
        for source in sources:
            # this site, nothing, or one exact block by its hash; attributes only by their hashes
            allowed = source in ("'self'", "'none'") or re.fullmatch(r"'sha256-[A-Za-z0-9+/]{43}='", source)
            allowed = allowed or (directive == "style-src-attr" and source == "'unsafe-hashes'")
            assert allowed, f"{directive} allows {source}"
    assert r.headers.get("X-Content-Type-Options") == "nosniff"


def test_the_mail_page_shows_each_mails_html_in_a_sandboxed_frame_escaped_and_its_text(api):
    email = unique_email()
    signup(api, email, first_name='<b>"Bo"</b>')
    [mail] = api.get(f"/_dev/outbox?to={email}").json["items"]
    page = api.get(f"/_dev/mail?to={email}").body.decode()
    [frame] = re.findall(r"<iframe[^>]*>", page)
    # the frame runs nothing and is not of this origin; its document is the mail's HTML, escaped into the attribute
    assert re.search(r'sandbox="[^"]*"', frame) and "allow-scripts" not in frame and "allow-same-origin" not in frame
    srcdoc = re.search(r'srcdoc="([^"]*)"', frame).group(1)
    assert "<" not in srcdoc and '"' not in srcdoc
    assert html.unescape(srcdoc).replace('<base target="_top">', "") == mail["html"]
    assert "&amp;lt;b&amp;gt;" in srcdoc  # the name, escaped in the mail, escaped again in the page
    # and the text part follows it, escaped once
    [text] = re.findall(r"<pre>(.*?)</pre>", page, re.S)
    assert "<b>" not in text and html.unescape(text) == mail["text"]


def test_the_mail_page_loads_nothing_from_another_site(api):
    page = api.get("/_dev/mail").body.decode()
    for attribute in re.findall(r'<(?:link|script|img|iframe|style)[^>]*?(?:src|href)="([^"]*)"', page):
        assert attribute.startswith("/") and not attribute.startswith("//"), attribute


def test_the_mail_page_escapes_what_users_wrote(api):
    email = unique_email()
    signup(api, email, first_name='<script>alert("x")</script>')
    page = api.get(f"/_dev/mail?to={email}").body.decode()
    assert "&lt;script&gt;" in page
    assert "<script>alert" not in page


@pytest.mark.parametrize("forged", [{"Host": "evil.example"}, {"X-Forwarded-Host": "evil.example"},
                                    {"Host": "evil.example", "X-Forwarded-Proto": "http",
                                     "Forwarded": "host=evil.example"}])
def test_mailed_links_come_from_public_base_url_even_with_a_forged_host(api, forged):
    # WHEN someone signs up, and asks for a reset, through a request with a forged Host
    email = unique_email()
    assert api.post("/auth/signup", {"email": email, "password": PASSWORD, "first_name": "Ada",
                                     "last_name": "Lovelace"}, headers=forged).status_code == 202
    token = api.last_link(email, "/verify/").rsplit("/", 1)[1]
    api.post("/auth/verify-email", {"token": token}, headers=forged)
    assert api.post("/auth/password/forgot", {"email": email}, headers=forged).status_code == 202
    # THEN every link mailed, in every part of every mail, is on PUBLIC_BASE_URL
    mails = api.get(f"/_dev/outbox?to={email}", headers=forged).json["items"]
    assert len(mails) == 2
    for mail in mails:
        assert mail["links"] and all(link.startswith(BASE_URL + "/") for link in mail["links"])
        assert "evil.example" not in mail["text"] + mail["html"]
    page = api.get(f"/_dev/mail?to={email}", headers=forged).body.decode()
    assert "evil.example" not in page


# Clock and jobs ---------------------------------------------------------------------------------------

def test_the_business_clock_moves_forward_and_back_to_real_time(api):
    real = datetime.now(timezone.utc)
    moved = api.post("/_dev/clock", {"advance_seconds": 3 * 86400})
    assert moved.status_code == 200
    ahead = (parse_ts(moved.json["now"]) - real).total_seconds()
    assert 3 * 86400 - 5 <= ahead <= 3 * 86400 + 60
    again = api.post("/_dev/clock", {"advance_seconds": 3600})
    assert (parse_ts(again.json["now"]) - parse_ts(moved.json["now"])).total_seconds() >= 3600
    back = api.delete("/_dev/clock")
    assert back.status_code == 200
    assert abs((parse_ts(back.json["now"]) - datetime.now(timezone.utc)).total_seconds()) < 60


def test_a_moved_clock_still_lets_people_sign_in(api):
    # sign-in tokens are checked against real time, not the business clock
    api.post("/_dev/clock", {"advance_seconds": 30 * 86400})
    token = api.signup_verified(unique_email())
    assert api.get("/me", token=token).status_code == 200


@pytest.mark.parametrize("body", [{}, {"advance_seconds": -1}, {"advance_seconds": "60"}, {"advance_seconds": 1.5},
                                  {"advance_seconds": 60, "also": 1}])
def test_a_bad_clock_request_is_400(api, body):
    error = assert_error(api.post("/_dev/clock", body), 400, "validation_error")
    assert error["details"]


def test_a_job_runs_by_name_and_answers_its_result(api, monkeypatch):
    ran = []

    def count_things(deps):
        ran.append(deps)
        return {"processed": 3}

    monkeypatch.setitem(jobs.JOBS, "count-things", count_things)
    r = api.post("/_dev/jobs/count-things")
    assert r.status_code == 200, r.json
    assert r.json == {"job": "count-things", "result": {"processed": 3}}
    assert len(ran) == 1


def test_an_unknown_job_is_404(api):
    assert_error(api.post("/_dev/jobs/no-such-job"), 404, "not_found")
    assert_error(api.post("/_dev/jobs/__init__"), 404, "not_found")


# Other stages ------------------------------------------------------------------------------------------

def _call_every_dev_route(api: Api) -> dict:
    answers = {}
    for spec in DEV_ROUTES:
        path = spec.path.replace("{name}", "count-things")
        body = {"advance_seconds": "not a number"} if spec.body is not None else None
        answers[f"{spec.method} {spec.path}"] = api.call(spec.method, path, body=body)
    return answers


@pytest.mark.parametrize("stage", ["dev", "prod", "staging", "LOCAL", None])
def test_every_dev_route_is_404_in_the_other_stages(in_stage, monkeypatch, stage):
    # GIVEN the app running in a deployed stage (and a job that would run if it were reached)
    monkeypatch.setitem(jobs.JOBS, "count-things", lambda deps: pytest.fail("a job ran outside the local stage"))
    before = container.clock.now()
    # WHEN every local tool is called, even with a body that would not validate
    answers = _call_every_dev_route(in_stage(stage))
    # THEN each answers 404 as if it did not exist, and the clock has not moved
    for route, r in answers.items():
        assert r.status_code == 404, route
        assert_error(r, 404, "not_found")
    assert abs((container.clock.now() - before).total_seconds()) < 60


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_dev_route_is_404_with_the_deployed_stage_configuration(stack, monkeypatch, stage):
    # the environment the stage gets from .chalice/config.json, as `chalice deploy --stage` would set it
    monkeypatch.setitem(jobs.JOBS, "count-things", lambda deps: pytest.fail("a job ran outside the local stage"))
    container.reset()
    try:
        with chalice_client(stage=stage) as client:
            answers = _call_every_dev_route(Api(client))
    finally:
        container.reset()
    for r in answers.values():
        assert_error(r, 404, "not_found")
