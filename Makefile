# Two commands on a fresh machine with Python 3.11: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test check docs serve bench clean fixtures

# every core; the demo's tests share one worker (tests/conftest.py's XDIST_GROUPS)
PARALLEL := -n auto --dist loadgroup

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[test]'
	# Bootstrap's CSS and JavaScript for the demo site offline (TOM's pages load them from a CDN, which this
	# machine cannot reach): only the package's static files are used, so not Flask (--no-deps)
	$(BIN)/python -m pip install --no-deps 'Bootstrap-Flask==2.6.0'
	touch $(STAMP)

# Migrate the demo site (SQLite), load its targets, start the offline sample archive, update light curves.
# Extra options for update_lightcurves: make demo ARGS=--force
demo: $(STAMP)
	$(BIN)/python example_site/run_demo.py $(ARGS)

# Lint (flake8, setup.cfg's settings), then the whole test suite (unit, contract, system), timed.
test: $(STAMP)
	$(BIN)/python -m flake8 tom_bhtom_brokers tests bench example_site
	@start=$$(date +%s); $(BIN)/python -m pytest $(PARALLEL) $(PYTEST_ARGS); status=$$?; \
	echo "make test: pytest took $$(( $$(date +%s) - start )) s"; exit $$status

# The fast tiers while working: unit + contract (no browser, PostgreSQL, demo, wheel or fleets), timed.
check: $(STAMP)
	@start=$$(date +%s); $(BIN)/python -m pytest $(PARALLEL) -m "not system" $(PYTEST_ARGS); status=$$?; \
	echo "make check: pytest took $$(( $$(date +%s) - start )) s"; exit $$status

# Regenerate docs/archives.md and the README's sources table from the archives' declarations (a test fails while
# either is out of date).
docs: $(STAMP)
	$(BIN)/python example_site/manage.py archive_tables --write .

# The demo site on http://127.0.0.1:8000 (user admin, password admin) after `make demo`.
serve: $(STAMP)
	$(BIN)/python example_site/serve_demo.py

bench: $(STAMP)
	$(BIN)/python bench/run.py

# Rewrite the sample archive's recorded responses (deterministic).
fixtures: $(STAMP)
	$(BIN)/python tests/data/make_fixtures.py

clean:
	rm -rf $(VENV) example_site/db.sqlite3 *.egg-info
