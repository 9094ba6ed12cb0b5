"""Committing a unit of work that may have to be built again: a client row changed by a concurrent owner
change (always retried), or an error the caller can clear first (an expired invitation still holding a slot
or a seat)."""
from __future__ import annotations

from typing import Callable

from ..domain.errors import DomainError, RowChanged
from .deps import Deps

ATTEMPTS = 4


def commit(deps: Deps, build: Callable[[object], None],
           recover: Callable[[DomainError], bool] | None = None) -> None:
    """Build a fresh unit of work with `build(tx)` and commit it; on RowChanged, or on an error `recover`
    cleared (it returns True), build and commit again, a few times at most."""
    recovered = False
    for attempt in range(1, ATTEMPTS + 1):
        tx = deps.store.transaction()
        build(tx)
        try:
            tx.commit()
            return
        except RowChanged:
            if attempt == ATTEMPTS:
                raise
        except DomainError as exc:
            if recovered or recover is None or attempt == ATTEMPTS or not recover(exc):
                raise
            recovered = True
