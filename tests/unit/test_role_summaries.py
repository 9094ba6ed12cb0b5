"""The one line that tells an invited person what their role may do is read off the permission matrix."""
from __future__ import annotations

import pytest

from chalicelib.domain import role_summaries
from chalicelib.domain.invitations import ACCOUNT, ACCOUNT_ROLES, PARTNER, PARTNER_ROLES, ROLE_LABELS
from chalicelib.domain.permissions import ACCOUNT_ACTIONS, ACCOUNT_GRANTS, PARTNER_ACTIONS, PARTNER_GRANTS
from chalicelib.domain.role_summaries import ACCOUNT_CAPABILITIES, PARTNER_CAPABILITIES, interim_role, summary

INVITABLE = [(ACCOUNT, r) for r in ACCOUNT_ROLES] + [(PARTNER, r) for r in PARTNER_ROLES]


def _parts(line: str) -> tuple[str, str]:
    can, _, cannot = line.split(" (")[0].rstrip(".").partition(", but not ")
    return can, cannot


def test_every_capability_names_actions_of_its_matrix():
    for table, actions in ((ACCOUNT_CAPABILITIES, ACCOUNT_ACTIONS), (PARTNER_CAPABILITIES, PARTNER_ACTIONS)):
        for phrase, needed in table:
            assert needed and set(needed) <= set(actions), phrase


@pytest.mark.parametrize("target, role", INVITABLE)
def test_each_invitable_role_gets_one_sentence_that_names_it(target, role):
    line = summary(target, role)
    label = ROLE_LABELS[role]
    assert line.startswith(f"As a {label} you can ") or line.startswith(f"As an {label} you can ")
    assert line.endswith(".") and line.count(". ") == 0 and "\n" not in line


@pytest.mark.parametrize("target, role", INVITABLE)
def test_the_line_grants_exactly_what_the_matrix_grants(target, role):
    table, grants = (ACCOUNT_CAPABILITIES, ACCOUNT_GRANTS) if target == ACCOUNT else (PARTNER_CAPABILITIES,
                                                                                      PARTNER_GRANTS)
    can, cannot = _parts(summary(target, role))
    missing = [phrase for phrase, needed in table if not set(needed) <= grants[role]]
    for phrase, needed in table:
        if set(needed) <= grants[role]:
            assert phrase in can, (role, phrase)
        else:
            assert phrase not in can, (role, phrase)
    # the first things out of reach are named, no more than the line allows
    assert cannot.split(", ")[0].split(" or ")[0] == (missing[0] if missing else "")
    assert sum(phrase in cannot for phrase in missing) == min(len(missing), role_summaries.NAMED_LIMITS)


def test_a_change_to_the_matrix_changes_the_line(monkeypatch):
    before = summary(ACCOUNT, "guest")
    assert "move money" in _parts(before)[1]
    wider = {**ACCOUNT_GRANTS, "guest": ACCOUNT_GRANTS["guest"] | {"data.write", "money.add", "money.withdraw",
                                                                   "money.pay"}}
    monkeypatch.setattr(role_summaries, "ACCOUNT_GRANTS", wider)
    can, cannot = _parts(summary(ACCOUNT, "guest"))
    assert "move money" in can and "move money" not in cannot


def test_an_authorized_user_is_told_they_have_an_admins_rights_until_approved():
    assert interim_role("authorized_user") == "admin"
    assert "until a reviewer approves your application, you have an admin's rights" in summary(ACCOUNT,
                                                                                                 "authorized_user")
    assert all(interim_role(r) is None for r in ACCOUNT_ROLES if r != "authorized_user")
