# The two commands a newcomer needs: `make run` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed

.PHONY: run test lint typecheck format bench clean-venv frontend

# What mypy checks: all of studio/, studio/pluginfmt strictly (pyproject.toml).
MYPY_TARGETS := studio

# Create or update .venv with the Python of .python-version and the pinned requirements.
$(STAMP): requirements.txt requirements-dev.txt .python-version
	@python=$$(bin/find-python) || exit 1; \
	if [ -x $(PY) ] && ! $(PY) -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$$(cat .python-version)' else 1)"; then \
		echo "recreating $(VENV): it was made with another Python"; rm -rf $(VENV); fi; \
	[ -x $(PY) ] || $$python -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

# Set up and start the studio: web on 127.0.0.1:8000, one worker, embedded Redis.
run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_admin
	$(PY) manage.py runstudio 127.0.0.1:8000

# Run the whole test suite (lint, format and type checks included).
test: $(STAMP)
	@bin/check-test-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy $(MYPY_TARGETS)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Type-check with mypy and its django and pydantic plugins (pyproject.toml).
typecheck: $(STAMP)
	$(VENV)/bin/mypy $(MYPY_TARGETS)

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

# Rebuild static/js/editor.bundle.js from frontend/package-lock.json (needs Node).
frontend:
	bin/build-frontend

clean-venv:
	rm -rf $(VENV)
