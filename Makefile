# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install rules-check rules-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the project's dependencies change.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/closedloop rules check
	$(BIN)/closedloop rules test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The embedded default: SQLite in var/, the Luohe directory and rules, demo data, demo keys.
run: $(STAMP)
	$(BIN)/closedloop rules check
	$(BIN)/closedloop init
	$(BIN)/closedloop demo
	$(BIN)/closedloop serve

bench: $(STAMP)
	$(BIN)/python bench/routing.py
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/intake_cpu.py
	$(BIN)/python bench/escalation.py
	$(BIN)/python bench/push.py
	$(BIN)/python bench/agenda.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
