# The two commands that matter: `make test` and `make book`. Each creates .venv
# if missing and installs everything from package registries (PyPI, npm).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
INSTALLED := $(VENV)/.installed

# MathJax 3 from the npm registry, checked and copied into the site so math
# renders offline. Kept out of git and out of a top-level _static/.
MATHJAX_VERSION := 3.2.2
MATHJAX_SHA256  := 1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09
MATHJAX_DIR     := $(VENV)/share/mathjax-static/mathjax
MATHJAX         := $(MATHJAX_DIR)/tex-chtml-full.js

NOTEBOOKS := $(shell find chapters -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort)
PORT ?= 8000

.PHONY: help install test test-lib test-notebooks book pdf test-site bench lab-results assignments serve clean distclean constraints

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(INSTALLED): pyproject.toml requirements/constraints.txt | $(PY)
	$(PIP) install -q -c requirements/constraints.txt -e ".[book,test,lab]"
	touch $@

install: $(INSTALLED) $(MATHJAX)  ## Create .venv and install the pinned dependencies and MathJax

$(MATHJAX): | $(PY)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	( cd "$$tmp" && npm pack --silent mathjax@$(MATHJAX_VERSION) >/dev/null ) && \
	echo "$(MATHJAX_SHA256)  $$tmp/mathjax-$(MATHJAX_VERSION).tgz" | sha256sum --check --quiet && \
	tar -xzf "$$tmp/mathjax-$(MATHJAX_VERSION).tgz" -C "$$tmp" && \
	mkdir -p "$$tmp/mathjax" && \
	cp -r "$$tmp"/package/es5/{tex-chtml-full.js,input,output,ui,a11y,adaptors} "$$tmp"/package/LICENSE "$$tmp/mathjax/" && \
	rm -rf "$$tmp/mathjax/output/svg" "$$tmp/mathjax/output/svg.js" && \
	rm -rf $(MATHJAX_DIR) && mkdir -p $(dir $(MATHJAX_DIR)) && mv "$$tmp/mathjax" $(MATHJAX_DIR)

test: test-lib test-notebooks  ## Library tests, then every notebook (nbval), each alone in an empty folder

test-lib: $(INSTALLED)
	$(PY) -m pytest tests --ignore=tests/site

# Each notebook is copied alone into an empty temporary folder and run there,
# as in a fresh Colab runtime: relative paths into the repository would fail.
test-notebooks: $(INSTALLED)
	alone=$$(mktemp -d) && trap 'rm -rf "$$alone"' EXIT && \
	for nb in $(NOTEBOOKS); do mkdir -p "$$alone/$$(dirname $$nb)" && cp "$$nb" "$$alone/$$nb"; done && \
	$(PY) -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider --rootdir "$$alone" "$$alone/chapters"

book: install  ## Execute the notebooks (cached) and build the site into _build/html; warnings are errors
	$(VENV)/bin/jupyter-book build . --builder html -n -W --keep-going

pdf: book  ## Print the built site to one PDF, _build/html/rnnbook.pdf (headless Chromium, no TeX)
	$(PY) scripts/pdf.py --site _build/html --out _build/html/rnnbook.pdf

test-site: pdf  ## Open every built page (and the PDF) in headless Chromium (Debian's chromium) and check them
	$(PY) -m pytest tests/site

bench: $(INSTALLED)  ## Time the NumPy scratch RNN/LSTM/GRU against torch side by side; writes _build/bench.json and appendix/_bench_table.md
	mkdir -p _build
	$(PY) -m rnnbook.bench --json _build/bench.json --markdown appendix/_bench_table.md

lab-results: $(INSTALLED)  ## Train every model of the lab on 3 seeds; writes _build/lab-results.json and appendix/_lab_table.md
	mkdir -p _build
	$(PY) scripts/lab_results.py --seeds 0 1 2 --json _build/lab-results.json --markdown appendix/_lab_table.md

assignments: $(INSTALLED)  ## Write student notebooks (no solutions) to _build/assignments
	$(PY) scripts/assignments.py --out _build/assignments

serve:  ## Serve _build/html on http://127.0.0.1:$(PORT)
	@test -f _build/html/index.html || { echo "No site yet: run 'make book' first"; exit 1; }
	$(PY) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

clean:  ## Remove _build (the site, the execution cache)
	rm -rf _build

distclean: clean  ## Also remove .venv
	rm -rf $(VENV)

constraints: $(INSTALLED)  ## Rewrite requirements/constraints.txt from the current .venv
	{ sed -n '1,3p' requirements/constraints.txt; $(PIP) freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > requirements/constraints.new && \
	mv requirements/constraints.new requirements/constraints.txt
