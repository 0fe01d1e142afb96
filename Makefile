# The two set-up commands of the README: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install install-test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# An editable install compiles nothing, and where PYTHONDONTWRITEBYTECODE is set (this machine, the image) no
# run writes bytecode either: each `sinergi` call would compile its own modules again (~50 ms of a `case
# status`, bench/RESULTS.md §11). Compiled here once, as a wheel install (the image) has them.
install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m compileall -q sinergi

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m compileall -q sinergi

run: install
	$(BIN)/sinergi dev

test: install-test
	@# pytest exits 5 when it collects no tests: that is not a failure; every other code is kept.
	$(BIN)/python -m pytest $(PYTEST_ARGS); code=$$?; [ $$code -eq 0 ] || [ $$code -eq 5 ] || exit $$code

lint: install-test
	$(BIN)/ruff check sinergi tests

clean:
	rm -rf $(VENV) .sinergi .pytest_cache
