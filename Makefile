# Two commands for everyone:  make lab   (set up and open JupyterLab)   and   make test   (set up and test).
# Set-up is shared: a .venv with the pinned versions of requirements-lock.txt and course_lib installed
# editable. It reruns only when pyproject.toml or the lock file changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup sandbox lab course test test-runtimes browser hub image test-fast bench release badges lock doctor clean

$(STAMP): pyproject.toml requirements-lock.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "genai-course needs Python >= 3.11; found " + sys.version.split()[0] + ". Install a newer Python or run: make PYTHON=python3.12 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements-lock.txt -e '.[dev,apps]'
	$(BIN)/python -m ipykernel install --user --name genai-course --display-name "Python (genai-course)"
	@touch $(STAMP)

setup: $(STAMP)

lab: setup   ## set up, then open JupyterLab on the first notebook
	$(BIN)/jupyter lab notebooks/00_welcome.ipynb

course: setup   ## set up, then execute every notebook headless and print a time table
	$(BIN)/genai-course run

doctor: setup
	$(BIN)/genai-course doctor

# The whole suite: unit tests, every notebook (lectures, solutions, released exercises) under COURSE_FAST=1,
# each run once (tests/conftest.py deselects nbval's cells of the notebooks that the widget test or a grading
# round trip already runs), the release-matches-source and no-leak checks. .ci/run calls this.
# The grading sandbox's bubblewrap (Debian/Ubuntu package `bubblewrap`): installed when apt can run here.
# Without it the sandbox tests check the audit-hook fallback and skip the bubblewrap half, saying why.
sandbox:
	@command -v bwrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -qq bubblewrap >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq bubblewrap)) || true; \
	  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null && command -v apt-get >/dev/null; then \
	    sudo -n apt-get install -y -qq bubblewrap || true; \
	  fi; }
	@command -v bwrap >/dev/null && echo "grading sandbox: $$(bwrap --version)" || \
	  echo "grading sandbox: bubblewrap not installed (apt-get install bubblewrap); its tests will skip"

test: setup sandbox
	COURSE_FAST=1 MPLBACKEND=Agg $(BIN)/python -m pytest -p no:cacheprovider --durations=30 \
		tests notebooks solutions exercises --nbval-lax --nbval-current-env

# The slow runtime tests, apart from `make test`: a fresh Colab-like environment with Colab's own package
# versions (tests/test_colab.py, a few minutes) and JupyterLab driven in headless Chromium
# (tests/test_browser.py), and a JupyterHub class with a PostgreSQL gradebook (tests/test_hub.py).
# .ci/run calls this after `make test`.
test-runtimes: setup browser hub
	COURSE_FAST=1 MPLBACKEND=Agg $(BIN)/python -m pytest -p no:cacheprovider --durations=10 tests -m "colab or browser or hub"

# Debian's chromium for tests/test_browser.py (Playwright drives it and never downloads a browser of its
# own). Without root or apt the browser test is skipped with a message saying so.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    ( apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium ) \
	      || echo "make browser: apt-get could not install chromium; tests/test_browser.py will be skipped"; \
	  else \
	    echo "make browser: no chromium, and apt-get as root is not available here; install Chromium" \
	         "(Debian: apt-get install chromium) or set COURSE_CHROMIUM, else tests/test_browser.py is skipped"; \
	  fi

# What tests/test_hub.py needs (and the guide's JupyterHub section tells an instructor to install):
# Debian's PostgreSQL server, configurable-http-proxy from npm, and the `hub` extra (jupyterhub, psycopg)
# in the course environment. Each is installed only when missing; without root, apt or npm the hub test
# is skipped with a message saying which.
hub: setup
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    ( apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql ) \
	      || echo "make hub: apt-get could not install postgresql; tests/test_hub.py will be skipped"; \
	  else echo "make hub: no PostgreSQL server and no apt-get as root; tests/test_hub.py will be skipped"; fi
	@command -v configurable-http-proxy >/dev/null 2>&1 || \
	  if command -v npm >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    npm install -g --silent configurable-http-proxy || echo "make hub: npm could not install configurable-http-proxy"; \
	  elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    ( DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm && npm install -g --silent configurable-http-proxy ) \
	      || echo "make hub: could not install npm and configurable-http-proxy"; \
	  else echo "make hub: no configurable-http-proxy (npm install -g configurable-http-proxy); tests/test_hub.py will be skipped"; fi
	@$(BIN)/python -c "import jupyterhub, psycopg" 2>/dev/null || \
	  $(BIN)/python -m pip install --quiet -c requirements-lock.txt -e '.[dev,apps,hub]'

# The class image for Zero to JupyterHub (deploy/Dockerfile; the guide's "Beyond one server" section).
IMAGE ?= genai-course:0.1.0
image:
	@docker info >/dev/null 2>&1 || { echo "make image: no container engine answers (docker info failed); start Docker or Podman first"; exit 1; }
	docker build -f deploy/Dockerfile -t $(IMAGE) .

bench: setup   ## time every notebook in full and fast mode; rewrites benchmarks/RESULTS.md
	$(BIN)/genai-course bench

release: setup   ## regenerate exercises/ from solutions/
	$(BIN)/genai-course release --all

badges: setup   ## rewrite Colab badges and setup cells from pyproject.toml's repository URL
	$(BIN)/python scripts/write_badges.py

# jsonschema stays below 4.25 in the lock: 4.25 added rfc3987-syntax, whose import compiles ~35 Lark parsers
# (1.2 s) in every process that imports nbformat (tests/test_packaging.py checks it).
lock:   ## refresh requirements-lock.txt from the current .venv (after changing dependencies)
	( echo "# Exact versions that \`make\` and CI install: pip install -c requirements-lock.txt -e '.[dev,apps]'"; \
	  echo "# pyproject.toml keeps loose ranges so Colab's own torch is never replaced. Regenerate: make lock"; \
	  $(BIN)/python -m pip freeze --exclude-editable | sed 's/+cpu$$//' | grep -v '^genai-course' ) > requirements-lock.txt

clean:
	rm -rf $(VENV) .executed *.egg-info
