# Latchkey. `make run` serves the API locally on moto; `make test` runs every test;
# `make package` writes what `aws cloudformation deploy` takes (STAGE=dev or prod).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# checkov pins a boto3 that cannot share .venv with the service's: it gets its own environment.
CHECKOV_VENV := .venv-checkov
PORT ?= 8000
MOTO_PORT ?= 5055
STAGE ?= dev
export PORT MOTO_PORT

.PHONY: run test bench soak browser openapi package lint-infra clean

# The virtual environment, rebuilt whenever a requirements file changes.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade 'pip<26.3'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade 'pip<26.3'
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

run: $(VENV)/.installed
	$(BIN)/python scripts/local_stack.py

# Debian's Chromium for the browser tests (Playwright's own browser download is not used).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: $(VENV)/.installed browser lint-infra
	$(BIN)/ruff check --select F,E9 chalicelib app.py scripts bench tests
	$(BIN)/python -m pytest -n 2 --dist loadfile -q tests

bench: $(VENV)/.installed
	$(BIN)/python bench/bench.py
	$(BIN)/python scripts/package_size.py

# The local stack over thousands of requests: the memory of its two processes as they go (a few minutes).
soak: $(VENV)/.installed
	$(BIN)/python bench/soak.py

openapi: $(VENV)/.installed
	$(BIN)/python -c "import json, app; from chalicelib.api.openapi import document; \
	  open('openapi.json', 'w').write(json.dumps(document(), indent=2) + '\n')"

# The template and code package of one stage, offline; prints the size of the zip.
package: $(VENV)/.installed
	$(BIN)/python scripts/package.py --stage $(STAGE) --out build

# Both stages' merged templates through cfn-lint and checkov (waivers carry their reasons in the template).
lint-infra: $(VENV)/.installed $(CHECKOV_VENV)/.installed
	$(BIN)/python scripts/package.py --stage dev --stage prod --out build
	$(BIN)/cfn-lint build/dev/sam.yaml build/prod/sam.yaml
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation \
	  -f build/dev/sam.yaml -f build/prod/sam.yaml

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) build .pytest_cache .hypothesis
