# Two entry points, each doing all set-up itself: `make lab` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
# The CPU build lies on disk on our machines; users with a GPU build already in
# the venv keep it (the check below skips the install when torch imports).
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# Jupyter refuses to run as root unless told; containers often run as root.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab app warm test install clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install "$(TORCH_SPEC)"
	$(PY) -m pip install -e ".[lab,test]"
	touch $@

install: $(VENV)/.installed

lab: $(VENV)/.installed
	$(VENV)/bin/jupyter lab $(LAB_ARGS) notebooks/00_start_here.ipynb

app: $(VENV)/.installed
	$(VENV)/bin/brr-lab app

# The notebooks (03, 04, 05) and the app read the same finished runs of `brr-lab repro`;
# training them once up front, on both cores, spares each notebook training them again.
# Runs are keyed by the cohort and brr_lab's source, so nothing stale is ever read.
warm: $(VENV)/.installed
	$(PY) -c "from brr_lab.experiments.repro import run_repro; run_repro(cache=True, workers=2)"

test: warm
	$(PY) -m pytest -n 2 --dist loadfile --nbval-lax --nbval-current-env tests notebooks $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
