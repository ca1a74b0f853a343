# Two commands on a fresh machine:  `make demo` (offline end-to-end run)  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# pywb pins redis<3 (through fakeredis), which clashes with the project's own
# dependencies: it lives in a venv of its own, used only by the replay test.
PYWB_VENV  := .venv-pywb
PYWB_STAMP := $(PYWB_VENV)/.installed

.PHONY: demo test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip   # the bundled pip trips on lxml[html-clean]
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(PYWB_STAMP):
	$(PYTHON) -m venv $(PYWB_VENV)
	$(PYWB_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PYWB_VENV)/bin/python -m pip install --quiet pywb==2.10.0
	touch $(PYWB_STAMP)

demo: $(STAMP)
	$(BIN)/newsarchive demo

test: $(STAMP) $(PYWB_STAMP)
	tools/system-packages.sh
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile   # one file per worker: its fixtures built once

lint: $(STAMP)
	$(BIN)/ruff check archive crawler tests bench

clean:
	rm -rf $(VENV) $(PYWB_VENV) demo-data .pytest_cache
