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

# MathJax 4 and its font from the npm registry, checked and copied into the site so math
# renders offline (MathJax 4 breaks long equations to fit a phone's width). Kept out of
# git and out of a top-level _static/.
MATHJAX_VERSION := 4.1.3
MATHJAX_SHA256  := b7109f516f3d842de62b95d653e35fa0976dc223706a2a77440e7f7723f0c54d
MATHJAX_FONT_SHA256 := 87d7b869c6a2a6169d9a53acc4eab6c846a9cbe11752738226461bb5070c8b88
MATHJAX_DIR     := $(VENV)/share/mathjax-static/mathjax
MATHJAX         := $(MATHJAX_DIR)/.version-$(MATHJAX_VERSION)

# axe-core from the npm registry: the accessibility checker the browser tests inject into every page.
AXE_VERSION := 4.14.1
AXE_SHA256  := e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745
AXE         := $(VENV)/share/axe-core/axe.min.js

NOTEBOOKS := $(shell find chapters -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort)
PORT ?= 8000

.PHONY: help install test test-lib test-notebooks book pdf test-site bench lab-results lab-ablation assignments serve clean distclean constraints

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(INSTALLED): pyproject.toml requirements/constraints.txt | $(PY)
	$(PIP) install -q -c requirements/constraints.txt -e ".[book,test,lab]"
	touch $@

install: $(INSTALLED) $(MATHJAX)  ## Create .venv and install the pinned dependencies and MathJax

# npm pack fetches a package's tarball without installing it; its sha256 is checked before use.
define npm_fetch  # $(1) package@version, $(2) sha256, $(3) folder to unpack into
( cd "$(3)" && npm pack --silent $(1) >/dev/null ) && \
tgz=$$(ls "$(3)"/*.tgz) && echo "$(2)  $$tgz" | sha256sum --check --quiet && \
tar -xzf "$$tgz" -C "$(3)" && rm "$$tgz"
endef

$(MATHJAX): | $(PY)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && mkdir "$$tmp"/mj "$$tmp"/font "$$tmp/mathjax" && \
	$(call npm_fetch,mathjax@$(MATHJAX_VERSION),$(MATHJAX_SHA256),$$tmp/mj) && \
	$(call npm_fetch,@mathjax/mathjax-newcm-font@$(MATHJAX_VERSION),$(MATHJAX_FONT_SHA256),$$tmp/font) && \
	cp -r "$$tmp"/mj/package/{tex-chtml.js,input,output,ui,a11y,adaptors,sre,LICENSE} "$$tmp/mathjax/" && \
	mkdir -p "$$tmp/mathjax/fonts/mathjax-newcm-font" && \
	cp -r "$$tmp"/font/package/{chtml,chtml.js,package.json} "$$tmp/mathjax/fonts/mathjax-newcm-font/" && \
	touch "$$tmp/mathjax/$(notdir $(MATHJAX))" && \
	rm -rf $(MATHJAX_DIR) && mkdir -p $(dir $(MATHJAX_DIR)) && mv "$$tmp/mathjax" $(MATHJAX_DIR)

$(AXE): | $(PY)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(call npm_fetch,axe-core@$(AXE_VERSION),$(AXE_SHA256),$$tmp) && \
	mkdir -p $(dir $(AXE)) && cp "$$tmp/package/LICENSE" $(dir $(AXE)) && \
	cp "$$tmp/package/axe.min.js" $(AXE).tmp && mv $(AXE).tmp $(AXE)

test: test-lib test-notebooks  ## Library tests, then every notebook (nbval), each alone in an empty folder

test-lib: $(INSTALLED)
	$(PY) -m pytest tests --ignore=tests/site

# Each notebook is copied alone into an empty temporary folder and run there,
# as in a fresh Colab runtime: relative paths into the repository would fail.
test-notebooks: $(INSTALLED)
	alone=$$(mktemp -d) && trap 'rm -rf "$$alone"' EXIT && \
	for nb in $(NOTEBOOKS); do mkdir -p "$$alone/$$(dirname $$nb)" && cp "$$nb" "$$alone/$$nb"; done && \
	$(PY) -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider --rootdir "$$alone" "$$alone/chapters"

book: install  ## Execute the notebooks (cached), build the site into _build/html, print it to _build/html/rnnbook.pdf (Debian's chromium); warnings are errors
	$(VENV)/bin/jupyter-book build . --builder html -n -W --keep-going
	$(PY) scripts/pdf.py --site _build/html --out _build/html/rnnbook.pdf

pdf: book  ## The same as `make book`: the site links its PDF, so the two are built together

test-site: $(INSTALLED) $(AXE)  ## After `make book`: open every built page (and the PDF) in headless Chromium (Debian's chromium), at desktop and phone width, with axe-core
	AXE_JS=$(abspath $(AXE)) $(PY) -m pytest tests/site

bench: $(INSTALLED)  ## Time the NumPy scratch RNN/LSTM/GRU against torch, and the loop against the scans of the linear recurrence; writes appendix/_bench_table.md and appendix/_scan_table.md
	mkdir -p _build
	$(PY) -m rnnbook.bench --json _build/bench.json --markdown appendix/_bench_table.md
	$(PY) -m rnnbook.scan_bench --json _build/scan-bench.json --markdown appendix/_scan_table.md

lab-results: $(INSTALLED)  ## Train every model of the lab on 3 seeds; writes _build/lab-results.json and appendix/_lab_table.md
	mkdir -p _build
	$(PY) scripts/lab_results.py --seeds 0 1 2 --json _build/lab-results.json --markdown appendix/_lab_table.md

lab-ablation: $(INSTALLED)  ## The LSTM with no pretraining, a pretrained embedding, a pretrained encoder; validation only, 3 seeds; writes appendix/_lab_ablation.md
	mkdir -p _build
	$(PY) scripts/lab_ablation.py --seeds 0 1 2 --json _build/lab-ablation.json --markdown appendix/_lab_ablation.md

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
