# The two commands (see README):
#   make app    set up .venv and start the app on the embedded SQLite database (sample corpus on first start)
#   make test   set up .venv (with test extras, and Debian chromium for the browser test), check the import
#               layers (lint-imports) and the style (ruff check), then run the tests
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8501

.PHONY: app test setup setup-test browser bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(VENV)/.installed $@

setup: $(VENV)/.installed
setup-test: $(VENV)/.installed-test

app: setup
	HF_HUB_OFFLINE=1 $(VENV)/bin/streamlit run app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

# The browser end-to-end test drives Debian's chromium; install it when it is missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for the browser test"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: setup-test browser
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	HF_HUB_OFFLINE=1 $(VENV)/bin/python -m pytest -q

bench: setup-test
	HF_HUB_OFFLINE=1 $(VENV)/bin/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
