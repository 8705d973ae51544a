# Two commands for a newcomer: `make demo` and `make test`. Both create .venv at the repo root.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FASHION := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

.PHONY: demo test test-fast bench data venv clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

venv: $(BIN)/python

# The real Fashion-MNIST comes from Debian's package (no internet needed beyond the package mirror).
data:
	@if [ ! -f $(FASHION) ] && [ ! -f $$HOME/.keras/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then \
		echo "Installing Debian's dataset-fashion-mnist package"; \
		(apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist) || \
		echo "Could not install dataset-fashion-mnist; lamina will try to download the files"; \
	fi

# The lesson's model (784-300-100-10, SGD, 30 epochs) through the `lamina` command: prints the
# test accuracy and where the report (model.keras, curves, confusion matrix, report.html) is.
# --overwrite: `make demo` run again replaces its own runs/demo (lamina train alone refuses to).
demo: venv data
	$(BIN)/pip install --quiet ".[plot]"
	$(BIN)/lamina train --dataset fashion_mnist --out runs/demo --overwrite

# ruff and mypy first: a lint or type error fails the target before the (longer) tests run
test: venv data
	$(BIN)/pip install --quiet -e ".[test]"
	$(BIN)/ruff check src tests
	$(BIN)/mypy src/lamina
	$(BIN)/python -m pytest -q

test-fast: venv
	$(BIN)/pip install --quiet -e ".[test]"
	$(BIN)/ruff check src tests
	$(BIN)/mypy src/lamina
	$(BIN)/python -m pytest -q -m "not slow"

bench: venv data
	$(BIN)/pip install --quiet -e .
	$(BIN)/python bench/bench.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache
