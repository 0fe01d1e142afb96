# The two set-up commands of the README: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install install-test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'

run: install
	$(BIN)/sinergi dev

test: install-test
	@# pytest exits 5 when it collects no tests: that is not a failure; every other code is kept.
	$(BIN)/python -m pytest $(PYTEST_ARGS); code=$$?; [ $$code -eq 0 ] || [ $$code -eq 5 ] || exit $$code

lint: install-test
	$(BIN)/ruff check sinergi tests

clean:
	rm -rf $(VENV) .sinergi .pytest_cache
