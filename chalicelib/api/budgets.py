"""How many DynamoDB calls a route may make, declared with the route; `tests/api/test_call_budgets.py`
counts every route's calls on moto and holds it to this.

The shape of the rules: authorization is one read (a GetItem or BatchGetItem); a read route adds at
most one Query or BatchGetItem; a write route adds at most one read and one TransactWriteItems, plus one
update after mail is sent. A route that needs more says why in `note`.
"""
from __future__ import annotations

from dataclasses import dataclass

READS = ("GetItem", "BatchGetItem")
WRITES = ("PutItem", "UpdateItem", "DeleteItem")


@dataclass(frozen=True)
class Budget:
    reads: int = 0  # GetItem, BatchGetItem
    queries: int = 0
    transactions: int = 0  # TransactWriteItems
    writes: int = 0  # PutItem, UpdateItem, DeleteItem (outside a transaction)
    note: str = ""

    def allows(self, calls: dict[str, int]) -> list[str]:
        """What a request's DynamoDB calls (by operation name) spent beyond this budget (empty: within it)."""
        spent = {"reads": sum(calls.get(op, 0) for op in READS), "queries": calls.get("Query", 0),
                 "transactions": calls.get("TransactWriteItems", 0), "writes": sum(calls.get(op, 0) for op in WRITES)}
        over = [f"{kind} {spent[kind]} > {getattr(self, kind)}" for kind in spent if spent[kind] > getattr(self, kind)]
        if calls.get("Scan"):
            over.append("Scan")
        return over

    def __str__(self) -> str:
        parts = [f"{n} {k}" for k, n in (("reads", self.reads), ("queries", self.queries),
                                         ("transactions", self.transactions), ("writes", self.writes)) if n]
        return ", ".join(parts) or "no DynamoDB calls"


NONE = Budget()
AUTH = Budget(reads=1)  # authorization alone
READ = Budget(reads=2)  # authorization and one more read
LIST = Budget(reads=1, queries=1)  # authorization and one Query page
WRITE = Budget(reads=1, transactions=1)  # authorization and one transaction
WRITE_READ = Budget(reads=2, transactions=1)  # ... after one read of the object named in the path
# A mailed invitation knows whether the invitee has a login (their mail speaks to them as a user or a newcomer).
# Creating one looks the address up in the read that authorizes the route (`looks_up`): no call of its own.
# Resending reads it after the invitation: one read more. Every address alike, so the inviter's answer and its
# calls say nothing about it.
_KNOWN = "one read more: whether the invitee has a login, for the wording of their mail"
MAILED_WRITE = Budget(reads=1, transactions=1, writes=1,
                      note="the authorization read also says whether the invitee has a login; the send recorded "
                           "after the mail")
MAILED_WRITE_READ = Budget(reads=3, transactions=1, writes=1, note=_KNOWN)

# identity routes (the same for a known and an unknown email; the mail is the queue worker's, after the reply)
SIGNUP = Budget(writes=2, note="the source's sign-up counter and the attempt (which replaces an older one)")
VERIFY = Budget(reads=1, writes=1, transactions=1, note="the link taken, the address's newest attempt read, then "
                "it becomes the user only if it is still the newest and the address is free")
RESET = Budget(reads=1, writes=4, note="the link taken, the profile, its reset generation moved on (other links "
               "die), sessions revoked")
