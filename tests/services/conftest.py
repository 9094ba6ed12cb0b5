"""Service tests: the use cases against the one table on moto in process, with fakes for the outside world."""
from __future__ import annotations

import pytest

from tests.fakes import make_deps


@pytest.fixture
def deps(table):
    return make_deps()
