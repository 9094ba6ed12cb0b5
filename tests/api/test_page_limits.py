"""A page refused by a rate limit says when to come back, as its JSON twin does (its own stack: the limit is
per source address, and every request of the test client comes from one)."""
from __future__ import annotations

from tests.api import support

stack, api = support.stack, support.api
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_pages_refused_by_a_rate_limit_carry_retry_after(api):
    pages = [api.get(f"/i/{'u' * 41}{n:02d}") for n in range(40)]
    statuses = [p.status_code for p in pages]
    assert 404 in statuses and statuses[-1] == 429
    limited = pages[statuses.index(429)]
    assert limited.headers["Content-Type"].startswith("text/html")
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    for path in (f"/i/{'v' * 43}/signin", f"/i/{'v' * 43}/activate", f"/i/{'v' * 43}/forgot"):
        r = api.call("POST", path, raw="password=whatever+it+is", headers=FORM)
        assert r.status_code == 429, (path, r.status_code)
        assert r.headers["Content-Type"].startswith("text/html") and 0 < int(r.headers["Retry-After"]) <= 60
    json_twin = api.get(f"/invitations/{'w' * 43}")
    assert json_twin.status_code == 429 and json_twin.headers["Retry-After"]
