# stadtlabor-bot — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SYNAPSE_STAMP := .venv-synapse/.installed-stamp

.PHONY: install run console test test-long lint bench demo docs synapse clean

install: $(STAMP)

# Re-installs only when pyproject.toml changes; pip's output goes to stderr so that
# `printf '@anna hilfe\n' | make -s run` prints nothing but the bot.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) >&2
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip >&2
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]' >&2
	@touch $(STAMP)

run: install
	@$(VENV)/bin/stadtlabor run

console: install
	@$(VENV)/bin/stadtlabor console

synapse: $(SYNAPSE_STAMP)

$(SYNAPSE_STAMP):
	@bash .ci/install-synapse.sh >&2
	@touch $(SYNAPSE_STAMP)

test: install synapse
	$(VENV)/bin/pytest -q -m "not slow"

test-long: install synapse
	$(VENV)/bin/pytest -q -m slow

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

# The request benchmark drives load with wrk (its own process); installed here when missing.
bench: install
	@command -v wrk >/dev/null || { command -v apt-get >/dev/null && \
		{ apt-get install -y -q wrk >&2 || { apt-get update -q >&2 && apt-get install -y -q wrk >&2; }; }; } || \
		{ echo "make bench needs wrk (apt-get install wrk / brew install wrk)" >&2; exit 1; }
	@for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

demo: install
	@rm -rf .demo && mkdir -p .demo
	@STADTLABOR_DATABASE_URL=sqlite:///.demo/demo.db STADTLABOR_ORGANIZERS=console:orga \
		$(VENV)/bin/stadtlabor console --echo < docs/demo/jahr.txt

docs: install
	$(PY) -c "from bot.commands.readme import update_readme; update_readme('README.md')"

clean:
	rm -rf $(VENV) .venv-synapse .pytest_cache .mypy_cache .ruff_cache
