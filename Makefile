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

# The embedded default: SQLite in var/, the Luohe directory and rules, demo data, demo keys, and
# a webhook receiver on PORT+1 that the land bureau's messages go to (秒推, its log in var/).
# make run PORT=8080 (or CLOSEDLOOP_PORT) serves elsewhere; a port already taken stops it first.
PORT ?= $(or $(CLOSEDLOOP_PORT),8000)
HOOK_PORT ?= $(shell echo $$(($(PORT) + 1)))
VAR ?= var
DEMO_ENV = CLOSEDLOOP_DIRECTORY=$(VAR)/demo-directory.yaml CLOSEDLOOP_SECRET_DEMO_HOOK=demo-only-hook-secret \
           CLOSEDLOOP_PUBLIC_URL=http://127.0.0.1:$(PORT)
run: $(STAMP)
	@for p in $(PORT) $(HOOK_PORT); do $(BIN)/python -c "import socket; socket.socket().bind(('127.0.0.1', $$p))" \
	  2>/dev/null || { echo "port $$p is taken on 127.0.0.1: stop what serves there, or make run PORT=8080"; exit 1; }; done
	$(BIN)/closedloop rules check
	$(BIN)/closedloop demo-directory --webhook http://127.0.0.1:$(HOOK_PORT)/hook -o $(VAR)/demo-directory.yaml
	$(DEMO_ENV) $(BIN)/closedloop init
	$(DEMO_ENV) $(BIN)/closedloop demo
	@echo "秒推: the land bureau (natural-resources) is sent its messages at http://127.0.0.1:$(HOOK_PORT)/hook;"
	@echo "      the receiver checks each signature and logs the message to $(VAR)/webhook-receiver.log"
	$(DEMO_ENV) $(BIN)/closedloop webhook-receiver --port $(HOOK_PORT) --secret-env CLOSEDLOOP_SECRET_DEMO_HOOK \
	  > $(VAR)/webhook-receiver.log 2>&1 &
	$(DEMO_ENV) $(BIN)/closedloop serve --port $(PORT)

# The servers' loads come from wrk (apt-get install -y wrk); the reports at ten million cases
# (bench/reports.py, ~20 minutes and 14 GiB) are run on their own.
bench: $(STAMP)
	@command -v wrk >/dev/null || { echo "make bench needs wrk: apt-get install -y wrk"; exit 1; }
	$(BIN)/python bench/routing.py
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/intake_cpu.py
	$(BIN)/python bench/escalation.py
	$(BIN)/python bench/push.py
	$(BIN)/python bench/agenda.py
	$(BIN)/python bench/flood.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
