# Quick start (see README): `make practice` and `make test` each set everything up first.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup practice test lint bench clean

$(VENV)/.installed: pyproject.toml constraints.txt scripts/bootstrap.sh
	bash scripts/bootstrap.sh

setup: $(VENV)/.installed

practice: setup
	$(BIN)/interviewer --offline practice --round breadth

test: setup
	$(BIN)/interviewer bank lint
	$(BIN)/python -m pytest -n 2 -q

bench: setup
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV)
