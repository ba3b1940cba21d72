# The two commands a newcomer needs: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean extension-check package

# The VS Code extension (extension/): npm ci from the committed lock, then tsc, eslint, unit tests.
EXT := extension
EXT_STAMP := $(EXT)/node_modules/.installed

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/plangate demo

lint: $(STAMP)
	$(BIN)/ruff check server tests bench
	$(BIN)/ruff format --check server tests bench
	$(BIN)/mypy

test: lint extension-check
	$(BIN)/pytest

$(EXT_STAMP): $(EXT)/package.json $(EXT)/package-lock.json
	cd $(EXT) && npm ci --no-audit --no-fund
	touch $(EXT_STAMP)

extension-check: $(EXT_STAMP)
	cd $(EXT) && npm run --silent typecheck && npm run --silent lint && npm test

# The .vsix, in extension/dist/.
package: $(EXT_STAMP)
	cd $(EXT) && npm run package

bench: $(STAMP)
	$(BIN)/python bench/permissions.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/cache.py
	$(BIN)/python bench/lsp.py
	$(BIN)/python bench/sessions.py
	$(BIN)/python bench/guard.py
	$(BIN)/python bench/commands.py

clean:
	rm -rf $(VENV) dist build .mypy_cache .ruff_cache .pytest_cache .hypothesis
	rm -rf $(EXT)/node_modules $(EXT)/out $(EXT)/out-test $(EXT)/dist
