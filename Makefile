# genlabs: set-up, lab runs and tests. `make help` lists the targets.
PYTHON  ?= python3
VENV    ?= .venv
PY      := $(VENV)/bin/python
LAB     ?=
PROFILE ?= $(or $(LABS_PROFILE),full)
# mnist or fashion_mnist (LABS_DATASET for every lab)
DATASET ?= $(or $(LABS_DATASET),mnist)
export LABS_DATASET := $(DATASET)
# Keras backend: tensorflow (default), jax or torch (KERAS_BACKEND for every lab and test). `make install
# BACKEND=jax|torch` adds the pinned CPU build of that backend (requirements-<backend>.txt) to the same .venv.
BACKEND ?= $(or $(KERAS_BACKEND),tensorflow)
ifeq ($(filter $(BACKEND),tensorflow jax torch),)
$(error BACKEND must be tensorflow, jax or torch; got '$(BACKEND)')
endif
export KERAS_BACKEND := $(BACKEND)
BACKEND_REQ := $(if $(filter tensorflow,$(BACKEND)),,requirements-$(BACKEND).txt)
# seconds a notebook cell may run when make test executes the labs (tests/test_grading_lab.py)
CELL_TIMEOUT ?= 900
# make grade: nbgrader's submitted/{student}/{lab}/{lab}.ipynb tree, and seconds a cell may run when grading;
# JOBS sandboxes at once; NO_SANDBOX=1 grades without bubblewrap (unsafe: student code runs as you)
SUBMISSIONS ?=
GRADE_CELL_TIMEOUT ?= 900
JOBS ?= 1
NO_SANDBOX ?=

export TF_CPP_MIN_LOG_LEVEL ?= 2
# Offline data: use the shared copies beside the checkout (../shared/datasets/mnist, .../fashion-mnist)
# when they are there and LABUTILS_DATA_DIR is unset; labutils.data looks in the data set's sub-folder.
SHARED_DATA := $(wildcard $(CURDIR)/../shared/datasets)
ifneq ($(SHARED_DATA),)
export LABUTILS_DATA_DIR ?= $(abspath $(SHARED_DATA))
endif

.PHONY: help install run test unit test-backends notebooks lab student-lab release links book book-check grade clean

help:
	@echo "make install [BACKEND=jax|torch]  create $(VENV), install the pinned requirements and labutils (and JAX or PyTorch)"
	@echo "make run [LAB=01] [PROFILE=full|quick] [DATASET=mnist|fashion_mnist]  execute the notebooks, write build/results.md"
	@echo "make test               unit tests + every lab executed once in the quick profile (answers blank and solved)"
	@echo "make unit               the unit tests only;  BACKEND=jax|torch on run, test, unit: that Keras backend"
	@echo "make test-backends      the model tests and labs 04, 07, 08, 09 (quick) on JAX and on PyTorch (CI's second stage)"
	@echo "make lab                start JupyterLab on notebooks/ (instructor versions, nbgrader's tools on)"
	@echo "make student-lab        start JupyterLab on release/ (student versions, nbgrader's tools off)"
	@echo "make book               the executed labs of the last make run as a static site: build/book/html/"
	@echo "make book-check         load every page of the book in headless Chromium (needs Debian's chromium)"
	@echo "make release [LAB=01]   student versions (nbgrader generate_assignment) into release/ (committed)"
	@echo "make links              Colab badges and install cells from [tool.genlabs] in pyproject.toml"
	@echo "make grade SUBMISSIONS=dir [LAB=01] [PROFILE=quick] [JOBS=4]  autograde, each notebook in a bubblewrap sandbox; build/grading/"
	@echo "make clean              remove build/"

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-%: requirements-%.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r $<
	touch $@

install: $(VENV)/.installed $(if $(BACKEND_REQ),$(VENV)/.installed-$(BACKEND))

run: install
	LABS_STRICT=1 $(PY) -m labutils.runner --profile $(PROFILE) $(foreach l,$(LAB),--lab $(l))

test: install
	LABS_STRICT=1 LABS_PROFILE=quick LABS_TEST_CELL_TIMEOUT=$(CELL_TIMEOUT) $(PY) -m pytest tests -p no:cacheprovider --durations=25

unit: install
	$(PY) -m pytest tests -p no:cacheprovider --ignore tests/test_grading_lab.py

# CI's second stage, on JAX and on PyTorch (the first stage, `make test`, runs everything on TensorFlow): the unit
# tests that build, train, save or measure Keras models (the others - data, grading, notebooks' structure, input
# validation - run no backend code), and the labs with their own training step in the quick profile.
BACKEND_TESTS ?= tests/test_backends.py tests/test_autoencoders.py tests/test_vae.py tests/test_gan.py \
  tests/test_rbm.py tests/test_rbm_bars.py tests/test_classifiers.py tests/test_metrics.py tests/test_paths.py \
  tests/test_plots.py tests/test_checks.py tests/test_bars_03_04.py tests/test_bars_05_06.py tests/test_bars_07.py \
  tests/test_bars_08.py tests/test_aae.py tests/test_dbm.py tests/test_sequence.py tests/test_anomaly.py
BACKEND_LABS ?= 04 07 08 09
test-backends:
	@for b in jax torch; do \
	  $(MAKE) --no-print-directory install BACKEND=$$b || exit 1; \
	  KERAS_BACKEND=$$b $(PY) -m pytest $(BACKEND_TESTS) -p no:cacheprovider -q --durations=10 || exit 1; \
	  $(MAKE) --no-print-directory run BACKEND=$$b PROFILE=quick LAB="$(BACKEND_LABS)" || exit 1; \
	done

lab: install
	$(VENV)/bin/jupyter lab notebooks

# The student versions, as a student gets them, with nbgrader's instructor extensions disabled for this server only.
student-lab: install
	$(PY) tools/student_lab.py

# The book: build/notebooks/ (make run, any profile) rendered as HTML into build/book/html/ (tools/book.py).
book: install
	$(PY) tools/book.py

book-check: install
	$(PY) tools/book.py --check

# The nbgrader course directory build/nbgrader/ is assembled from notebooks/ by labutils.grading.
release: install
	$(PY) -m labutils.grading release --out release $(if $(LAB),--lab $(LAB))

# Colab badges and install cells from [tool.genlabs] in pyproject.toml (then `make release`: the badges open release/)
links: install
	$(PY) tools/links.py

grade: install
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=dir  (nbgrader's submitted/{student}/{lab}/{lab}.ipynb)"; exit 2; }
	LABS_PROFILE=$(PROFILE) $(PY) -m labutils.grading grade "$(SUBMISSIONS)" --cell-timeout $(GRADE_CELL_TIMEOUT) \
	  --jobs $(JOBS) $(if $(LAB),--lab $(LAB)) $(if $(filter 1 yes true,$(NO_SANDBOX)),--no-sandbox)

clean:
	rm -rf build
