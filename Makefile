# The two set-up commands: `make run` (the whole system) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest chromium test-faults test-attacks bench load clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m sellerflow.cli.devstack run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The browser tests drive Debian's Chromium (Playwright cannot download one here): installed
# when missing and the user may, or one line saying what to run.
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "the browser tests need Chromium: run 'sudo apt-get install -y chromium', then make test" >&2; \
	    exit 1; \
	  fi; }

pytest: $(STAMP) chromium
	$(BIN)/pytest -q --durations=25

test: lint typecheck pytest

test-faults: $(STAMP)
	$(BIN)/pytest -q tests/faults

test-attacks: $(STAMP)
	$(BIN)/pytest -q tests/attacks

# Each benchmark's JSON lines are kept in .data/bench/<module>.jsonl; the last step prints every
# figure with its target and whether it was met (bench/summary.py).
BENCH_LOG := .data/bench
bench: SHELL := /bin/bash
bench: .SHELLFLAGS := -o pipefail -c

bench: $(STAMP)
	@rm -rf $(BENCH_LOG) && mkdir -p $(BENCH_LOG)
	$(BIN)/python -m bench.evaluation --db both --sellers 100000 --orders 2000000 | tee $(BENCH_LOG)/evaluation.jsonl
	$(BIN)/python -m bench.throughput | tee $(BENCH_LOG)/throughput.jsonl
	$(BIN)/python -m bench.task_latency | tee $(BENCH_LOG)/task_latency.jsonl
	$(BIN)/python -m bench.inbox --db both --tasks 10000 | tee $(BENCH_LOG)/inbox.jsonl
	$(BIN)/python -m bench.read_latency | tee $(BENCH_LOG)/read_latency.jsonl
	$(BIN)/python -m bench.memory --workflows 10000 --with-reference | tee $(BENCH_LOG)/memory.jsonl
	$(BIN)/python -m bench.what_if --db postgres --sellers 100000 --orders 2000000 | tee $(BENCH_LOG)/what_if.jsonl
	$(BIN)/python -m bench.ops_stats --db postgres --applications 100000 --stage-changes 1000000 --sellers 100000 | tee $(BENCH_LOG)/ops_stats.jsonl
	@echo "--- figures, targets, met"
	@$(BIN)/python -m bench.summary $(BENCH_LOG)/*.jsonl

load: $(STAMP)
	$(BIN)/python -m bench.load --applications 1000 --concurrency 50

clean:
	rm -rf .data
