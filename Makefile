# Customs Single Window — the two commands a newcomer needs: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000
WORKERS ?= 2

.PHONY: install migrate seed serve test soak bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/csw db upgrade

seed: migrate
	$(BIN)/csw seed

serve: seed
	$(BIN)/csw serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

test: install
	$(BIN)/lint-imports
	$(BIN)/ruff check app tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest

# Longer runs of the bounded CI tests: 30 kill -9 rounds per backend, 50x the fuzz examples.
soak: install
	CSW_CRASH_ROUNDS=30 CSW_FUZZ_SCALE=50 $(BIN)/python -m pytest -q \
		tests/integration/test_crash_durability.py tests/unit/test_fuzz_intake.py tests/unit/test_fuzz_rules.py

bench: install
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) || \
		{ echo "bench needs wrk: apt-get install wrk" >&2; exit 1; }
	$(BIN)/python -m bench.rules --write-results
	$(BIN)/python -m bench.risk --write-results
	$(BIN)/python -m bench.intake --backend both --soak-seconds 60 --write-results
	$(BIN)/python -m bench.telemetry --backend both --write-results
	$(BIN)/python -m bench.routing --backend sqlite --write-results
	$(BIN)/python -m bench.routing --backend postgresql --write-results
	$(BIN)/python -m bench.queue --backend sqlite --write-results
	$(BIN)/python -m bench.queue --backend postgresql --write-results
	$(BIN)/python -m bench.kiosk --backend sqlite --write-results
	$(BIN)/python -m bench.kiosk --backend postgresql --write-results

clean:
	rm -rf $(VENV) instance .pytest_cache
