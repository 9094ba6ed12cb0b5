"""`make run` only: the queues' workers as a thread of the local API process.

In AWS, Lambda's event source mappings hand each message to `deliver-mail` and `bulk-invitations` in app.py.
Locally nothing does, so this thread polls both queues and runs the same handlers; being in the API's process,
it sees the business clock that /_dev/clock moves.
"""
from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger(__name__)


def start() -> threading.Thread:
    thread = threading.Thread(target=_poll, name="local-mail-worker", daemon=True)
    thread.start()
    return thread


def _poll() -> None:
    from . import container
    from .services import bulk, deliveries

    while True:
        try:
            deps = container.deps()
            # No long poll: the local moto server answers one request at a time, and a waiting receive would
            # hold up every other call.
            mailed = deps.mail_queue.drain(lambda job: deliveries.deliver(deps, job))
            worked = bulk.drain(deps, max_batches=1)
            if not mailed and not (worked["messages"] or worked["failed"]):
                time.sleep(0.25)
        except Exception:  # the next round tries again; a failed job stays on the queue
            log.exception("local mail worker")
            time.sleep(1)
