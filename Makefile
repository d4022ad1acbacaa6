# The README's two commands: `make evaluate` and `make test`. Everything else is set up on the way.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
CONFIG ?= configs/baseline-smollm2-t01.yaml
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: install model evaluate lint test test-fast bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

model: install
	$(BIN)/logeval lm pull

evaluate: model
	$(BIN)/logeval evaluate $(CONFIG)

# ruff, mypy (strict, with the project's own packages installed) and the import-linter layer contracts
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: model lint
	$(BIN)/pytest -q

test-fast: install
	$(BIN)/pytest -q -m "not real_lm"

bench: model
	$(PY) benchmarks/bench_cli.py
	$(PY) benchmarks/bench_evaluate.py

clean:
	rm -rf $(VENV) build *.egg-info
