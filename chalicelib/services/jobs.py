"""Scheduled jobs by name: run by `@app.schedule` in AWS and by POST /_dev/jobs/{name} locally."""
from __future__ import annotations

from typing import Callable

from .deps import Deps

JOBS: dict[str, Callable[[Deps], dict]] = {}


def job(name: str):
    def register(fn: Callable[[Deps], dict]):
        JOBS[name] = fn
        return fn
    return register


def run(deps: Deps, name: str) -> dict:
    return JOBS[name](deps)
