# Developer entry points. `make help` lists them.
# Every target first runs scripts/bootstrap.sh (a no-op in milliseconds when the
# machine is ready), then uses the tools inside .venv only.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV      := .venv/bin
PY        := $(VENV)/python
BOOTSTRAP := scripts/bootstrap.sh
# Lint and unit tests need no broker: do not start RabbitMQ just for them.
BOOT_LITE := $(BOOTSTRAP) --no-broker

# Local runs simulate the carrier and the factory; tests never do.
SIMULATE ?= 1
PYTEST_ARGS ?=

# pytest exits 5 when a tier has no tests yet; that is not a failure of the
# tier, but say so loudly instead of passing silently.
pytest_tier = rc=0; SIMULATE=0 $(PY) -m pytest $(1) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make: no tests collected in: $(1)"; rc=0; fi; exit $$rc
tiers = $(wildcard $(1))

.PHONY: help install run keys fuzz chaos saga-properties test test-unit test-integration test-e2e test-repeat lint fmt docs bench compose-config clean

help: ## List the targets
	@echo "Order-management platform - make targets:"
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) \
	  | awk 'BEGIN {FS = ":.*## "} {printf "  %-18s %s\n", $$1, $$2}'
	@echo "Variables: SIMULATE=0|1 (make run, default 1), PYTEST_ARGS='-k ...', REPEAT=3 (test-repeat), AMQP_URL, MONGO_URL"

install: ## Install everything (RabbitMQ, uv, .venv from uv.lock) and start the broker
	@$(BOOTSTRAP) --sync

run: ## Start store, broker and the six services with demo data (Ctrl-C stops all)
	@$(BOOTSTRAP)
	SIMULATE=$(SIMULATE) $(PY) -m devstack.run

test: lint ## Lint, type-check, then unit + integration + e2e tests
	@$(BOOTSTRAP)
	$(call pytest_tier,$(call tiers,tests/unit tests/integration tests/e2e))

test-unit: ## Unit tests only (pure, no broker or store)
	@$(BOOT_LITE)
	$(call pytest_tier,$(call tiers,tests/unit))

test-integration: ## Integration tests (real RabbitMQ + embedded store, or MONGO_URL)
	@$(BOOTSTRAP)
	$(call pytest_tier,$(call tiers,tests/integration))

test-e2e: ## End-to-end tests: all six services as processes
	@$(BOOTSTRAP)
	$(call pytest_tier,$(call tiers,tests/e2e))

test-repeat: ## Run the whole suite REPEAT times in a row (default 3) to find flaky tests
	@$(BOOTSTRAP)
	@for i in $$(seq 1 $${REPEAT:-3}); do \
	  echo "== make test-repeat: run $$i of $${REPEAT:-3}"; \
	  SIMULATE=0 $(PY) -m pytest $(call tiers,tests/unit tests/integration tests/e2e) $(PYTEST_ARGS) -q \
	    || { echo "make test-repeat: run $$i failed"; exit 1; }; \
	done; echo "make test-repeat: $${REPEAT:-3} runs passed"

keys: ## Manage API keys: make keys ARGS='create --role ops --name ops.li' (list, revoke ID, dev-keys)
	@$(BOOT_LITE)
	$(PY) -m shared.access $${ARGS:-list}

fuzz: ## schemathesis on every service's OpenAPI with a key of every role (FUZZ_EXAMPLES=20, FUZZ_ROLES=...)
	@$(BOOTSTRAP)
	$(PY) -m devstack.fuzz

chaos: ## Orders while every service, the store and the broker fail, then checks (CHAOS_ORDERS=300, CHAOS_KILLS=12, CHAOS_SEED, CHAOS_PROFILE=short)
	@$(BOOTSTRAP)
	$(PY) -m benches.chaos

saga-properties: ## The order saga's property test, thorough profile (10,000 random runs, issue 9)
	@$(BOOT_LITE)
	HYPOTHESIS_PROFILE=thorough $(PY) -m pytest tests/unit/intake/test_saga_properties.py --hypothesis-show-statistics $(PYTEST_ARGS)

docs: ## Regenerate documents made from code (the saga diagram in docs/ARCHITECTURE.md)
	@$(BOOT_LITE)
	$(PY) -m devstack.docs

lint: ## ruff check + mypy on shared and services
	@$(BOOT_LITE)
	$(VENV)/ruff check .
	$(VENV)/mypy

fmt: ## Format code and apply safe lint fixes (ruff)
	@$(BOOT_LITE)
	$(VENV)/ruff format .
	$(VENV)/ruff check --fix .

bench: ## Run the benchmarks in benches/ (python -m benches, else pytest benches)
	@$(BOOTSTRAP)
	@if [ -f benches/__main__.py ]; then \
	  $(PY) -m benches; \
	elif [ -d benches ] && ls benches/*.py >/dev/null 2>&1; then \
	  $(PY) -m pytest benches $(PYTEST_ARGS); \
	else \
	  echo "make bench: no benches/ yet - nothing to run."; \
	  echo "  Add benches/__main__.py (or pytest files in benches/); results go to .bench/."; \
	fi

compose-config: ## Validate docker-compose.yml (installs Debian's docker-compose if missing)
	@scripts/compose-config.sh

clean: ## Remove local data (.data/), caches and bench output; keeps .venv
	rm -rf .data .bench .pytest_cache .mypy_cache .ruff_cache
	find . -path ./.venv -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
