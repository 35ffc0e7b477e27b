# memnb: two commands on a fresh machine.
#   make book   # install, prepare data, run each chapter whose page is missing or stale, render HTML
#   make html   # render the published (committed) pages only, running nothing
#   make test   # install, prepare data, pytest + nbval on every chapter at the `ci` profile
PROFILE ?= cpu
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-nodeps.txt | sha256sum | cut -c1-12)
NBTEST := _build/nbtest
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONHASHSEED := 0
# OpenMP threads sleep instead of spinning while they wait: on a shared 2-core machine spinning
# threads made small torch ops 10-30x slower (measured); results do not depend on it. On a quiet
# machine it costs tiny ops up to 2x (the per-token loop: 185 -> 364 ms), so the bench runs
# without it.
export OMP_WAIT_POLICY := PASSIVE

.PHONY: venv data book chapters html test lint bench clean

venv: $(STAMP)
$(STAMP): requirements.txt requirements-nodeps.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -r requirements-nodeps.txt
	echo "$(CURDIR)" > "$$($(PY) -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")/memnb-src.pth"
	rm -f $(VENV)/.installed-* && touch $@

data: venv
	$(PY) -m memnb.data prepare

chapters: data
	$(PY) -m memnb run all --profile $(PROFILE)

# html renders what is published, running nothing: the pages of book/chapters/ (cpu, committed)
# or book/chapters-$(PROFILE)/, a note page for a chapter with none, a warning on a stale one
# (memnb.book.site assembles them with the ledger into $(SITE)). book runs every missing or
# stale chapter first. PROFILE=ci is a smoke test (one seed), never the book: built apart.
SITE := _build/site/$(PROFILE)
HTML_OUT := $(if $(filter cpu,$(PROFILE)),book,$(SITE))
html: venv
	$(PY) -m memnb.book.site --profile $(PROFILE) --out $(SITE)
	$(VENV)/bin/jupyter-book build --all -W -n --keep-going --path-output $(HTML_OUT) $(SITE)
	@echo "book: $(CURDIR)/$(HTML_OUT)/_build/html/index.html"

book: chapters
	$(MAKE) html

# Chapters are converted to .ipynb with profile=ci injected (papermill --prepare-only), then
# executed cell by cell by nbval beside the unit tests, in one pytest run.
test: data lint
	rm -rf $(NBTEST) && mkdir -p $(NBTEST)
	for f in notebooks/[0-9][0-9]_*.py; do \
	  n=$$(basename $$f .py); \
	  $(VENV)/bin/jupytext --quiet --to ipynb -o - $$f \
	    | $(VENV)/bin/papermill - $(NBTEST)/$$n.ipynb -p profile ci --prepare-only --cwd notebooks --log-level WARNING \
	    || exit 1; \
	done
	$(PY) -m pytest -q -p no:cacheprovider tests $(NBTEST) \
	  --nbval-lax --nbval-current-env --nbval-cell-timeout=600

lint: venv
	$(VENV)/bin/ruff check memnb tests notebooks
	$(VENV)/bin/ruff format --check memnb tests notebooks

bench: venv
	env -u OMP_WAIT_POLICY $(PY) -m memnb bench
	env -u OMP_WAIT_POLICY $(PY) -m memnb bench --train

clean:
	rm -rf _build book/_build book/chapters-ci runs  # book/chapters/ holds the committed cpu pages: kept
