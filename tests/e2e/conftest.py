"""The e2e tests run against the stack `make run` starts."""
from tests.stack import stack  # noqa: F401
