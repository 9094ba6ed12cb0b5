# Latchkey. `make run` serves the API locally on moto; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
MOTO_PORT ?= 5055
export PORT MOTO_PORT

.PHONY: run test bench browser openapi lint-infra clean

# The virtual environment, rebuilt whenever a requirements file changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade 'pip<26.3'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	$(BIN)/python scripts/local_stack.py

# Debian's Chromium for the browser tests (Playwright's own browser download is not used).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: $(VENV)/.installed browser
	$(BIN)/ruff check --select F,E9 chalicelib app.py scripts bench tests
	$(BIN)/python -m pytest -n 2 --dist loadfile -q tests

bench: $(VENV)/.installed
	$(BIN)/python bench/bench.py

openapi: $(VENV)/.installed
	$(BIN)/python -c "import json, app; from chalicelib.api.openapi import document; \
	  open('openapi.json', 'w').write(json.dumps(document(), indent=2) + '\n')"

lint-infra: $(VENV)/.installed
	$(BIN)/cfn-lint infra/resources.yaml

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
