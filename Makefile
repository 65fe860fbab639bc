# genlabs: set-up, lab runs and tests. `make help` lists the targets.
PYTHON  ?= python3
VENV    ?= .venv
PY      := $(VENV)/bin/python
LAB     ?=
PROFILE ?= $(or $(LABS_PROFILE),full)
# seconds a notebook cell may run under nbval (make test)
CELL_TIMEOUT ?= 900

export TF_CPP_MIN_LOG_LEVEL ?= 2
# Offline MNIST: use the shared copy beside the checkout when there is one and LABUTILS_DATA_DIR is unset.
SHARED_MNIST := $(wildcard $(CURDIR)/../shared/datasets/mnist)
ifneq ($(SHARED_MNIST),)
export LABUTILS_DATA_DIR ?= $(abspath $(SHARED_MNIST))
endif

.PHONY: help install run test unit notebooks lab clean

help:
	@echo "make install            create $(VENV) and install the pinned requirements and labutils"
	@echo "make run [LAB=01] [PROFILE=full|quick]  execute the notebooks, write build/results.md"
	@echo "make test               unit tests + every notebook under nbval in the quick profile"
	@echo "make lab                start JupyterLab on notebooks/"
	@echo "make clean              remove build/"

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m labutils.runner --profile $(PROFILE) $(if $(LAB),--lab $(LAB))

test: install
	LABS_PROFILE=quick $(PY) -m pytest tests notebooks --nbval-lax --nbval-cell-timeout=$(CELL_TIMEOUT) -p no:cacheprovider

unit: install
	$(PY) -m pytest tests -p no:cacheprovider

lab: install
	$(VENV)/bin/jupyter lab notebooks

clean:
	rm -rf build
