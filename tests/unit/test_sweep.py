"""The expiry sweep on fakes: idempotent, one bad item does not stop the batch, and it keeps to its time."""
from __future__ import annotations

from datetime import timedelta

from chalicelib.domain.model import User
from chalicelib.services import accounts, invitations, sweep
from chalicelib.services.access import authorize
from chalicelib.services.principal import Principal
from tests.fakes import make_deps


def _world(count: int):
    deps = make_deps()
    owner = User("usr_owner", "owner@example.com", "O", "W", deps.clock.now(), email_verified=True)
    deps.store.create_user(owner)
    account, _, _ = accounts.create(deps, Principal(owner.user_id), "Home", "personal")
    ctx = authorize(deps, Principal(owner.user_id), account.account_id, "collaborators.invite")
    invs = [invitations.create(deps, ctx, {"email": f"p{i}@example.com", "role": "guest", "expires_in_days": 1})
            for i in range(count)]
    return deps, account, invs


def test_one_failing_item_does_not_stop_the_batch():
    deps, account, invs = _world(5)
    broken = invs[2].invitation_id
    real_close = deps.store.close_invitation

    def flaky_close(inv, *args, **kwargs):
        if inv.invitation_id == broken:
            raise RuntimeError("the table is having a bad day")
        return real_close(inv, *args, **kwargs)

    deps.store.close_invitation = flaky_close
    deps.clock.advance(timedelta(days=2).total_seconds())
    assert sweep.expire_invitations(deps) == {"expired": 4, "skipped": 0, "failed": 1}
    statuses = {i.invitation_id: deps.store.get_invitation(account.account_id, i.invitation_id).status for i in invs}
    assert statuses.pop(broken) == "pending"
    assert set(statuses.values()) == {"expired"}
    # the next run picks up what was left
    deps.store.close_invitation = real_close
    assert sweep.expire_invitations(deps) == {"expired": 1, "skipped": 0, "failed": 0}


def test_a_run_without_time_left_stops_and_the_next_one_finishes():
    deps, account, invs = _world(3)
    deps.clock.advance(timedelta(days=2).total_seconds())
    assert sweep.expire_invitations(deps, time_budget_seconds=0) == {"expired": 0, "skipped": 0, "failed": 0}
    assert sweep.expire_invitations(deps) == {"expired": 3, "skipped": 0, "failed": 0}


def test_nothing_is_due_before_expiry():
    deps, account, invs = _world(2)
    deps.clock.advance(timedelta(hours=23).total_seconds())
    assert sweep.expire_invitations(deps) == {"expired": 0, "skipped": 0, "failed": 0}
