# popheal: the two README commands (make demo, make test) and helpers. Windows users: see README.
PYTHON ?= python3
VENV   := .venv
ifeq ($(OS),Windows_NT)
BIN := $(VENV)/Scripts
else
BIN := $(VENV)/bin
endif
AREA ?= params/wolverhampton.yaml

.PHONY: help demo test lab bench venv clean

help:          ## list the targets
	@grep -E '^[a-z]+:.*##' Makefile | sed 's/:.*##/ -/'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

venv: $(BIN)/python

demo: venv     ## create .venv, install popheal, generate the demo area, build every PCN pack
	$(BIN)/python -m pip install -e .
	$(BIN)/popheal synth --params $(AREA)
	$(BIN)/popheal packs --params $(AREA)

test: venv     ## create .venv if missing, install with the test and scale extras, run the tests
	$(BIN)/python -m pip install -e ".[test,scale]"
	$(BIN)/python -m pytest

lab: venv      ## open the notebooks in JupyterLab
	$(BIN)/python -m pip install -e ".[lab]"
	$(BIN)/jupyter lab notebooks/

bench: venv    ## timing benchmarks (print figures; never part of the tests)
	$(BIN)/python -m pip install -e ".[test,scale]"
	$(BIN)/python benchmarks/packs.py

clean:         ## remove generated data and outputs (keeps .venv)
	rm -rf data/raw/synthetic outputs/* data/processed/*
	touch outputs/.gitkeep data/processed/.gitkeep
