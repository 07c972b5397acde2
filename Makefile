# Thin wrappers. `make test` and `make demo` do all set-up on a fresh machine.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

# checkov (deploy/k8s validation) in a venv of its own: its pins (packaging, boto3, numpy...)
# would otherwise change the test environment. tests/unit/test_k8s_manifests.py runs it.
CHECKOV := $(VENV)/checkov/bin/checkov

.PHONY: install system-deps docker images test lint demo bench clean k8s-tools

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $@

install: $(BIN)/.installed

$(CHECKOV):
	$(PYTHON) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/pip install -q --upgrade pip
	$(VENV)/checkov/bin/pip install -q 'checkov>=3.2,<4'

k8s-tools: $(CHECKOV)

system-deps:
	./scripts/ensure-system-deps

lint: install
	$(BIN)/ruff check src simulators tests bench
	$(BIN)/ruff format --check src simulators tests bench
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

# A Docker engine for the container half of the integration tests (and `make images`):
# scripts/ensure-docker starts one when none answers and stops it when the run ends; one
# that was already running is left alone. STEP_STACK_BACKEND=local opts out (printed).
docker:
	./scripts/ensure-docker start

images: install docker
	$(BIN)/python -m step_platform.devstack.images

test: install system-deps k8s-tools
	$(MAKE) lint
	./scripts/ensure-docker start
	status=0; \
	  if [ "$${STEP_STACK_BACKEND:-}" != local ]; then $(BIN)/python -m step_platform.devstack.images || status=$$?; fi; \
	  [ $$status -ne 0 ] || $(BIN)/pytest || status=$$?; \
	  ./scripts/ensure-docker stop; exit $$status
	$(BIN)/python bench/run.py --quick

demo: install system-deps
	$(BIN)/step-platform demo $(ARGS)

bench: install system-deps
	$(BIN)/python bench/run.py
	$(BIN)/python bench/step_parts.py
	$(BIN)/python bench/config_format_bench.py
	$(BIN)/python bench/replica_bench.py
	$(BIN)/python bench/metrics_bench.py
	$(BIN)/python bench/watch_bench.py

clean:
	rm -rf $(VENV) .step-platform .pytest_cache .hypothesis
