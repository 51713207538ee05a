# Two commands do all the set-up on a fresh machine with Python >= 3.11:
#   make report   create .venv, install the project, run the main job on the shipped data
#   make test     create .venv, install the project with test extras, run the tests and ruff
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
OUT    ?= report

.PHONY: report test notebooks lint format clean

# Nothing else is needed: the geospatial libraries come in wheels and the Chinese font of the
# figures in a PyPI package (pylopdf-fonts-zh-cn). Clear errors for the two things that can miss.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "error: '$(PYTHON)' is not Python >= 3.11; give another: make PYTHON=python3.12 ..." >&2; \
	  exit 2; }
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "error: '$(PYTHON) -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv" >&2; \
	  exit 2; }
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when the project definition changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

report: $(VENV)/.installed
	$(BIN)/barrier report --pdf --out $(OUT)

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n auto --maxprocesses=4

# Re-execute notebooks/*.ipynb top to bottom and save them with their outputs (readers see them
# on GitHub; tests/test_notebooks.py fails when the saved numbers differ from a fresh run).
notebooks: $(VENV)/.installed
	$(BIN)/python tests/test_notebooks.py

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) report .pytest_cache .ruff_cache build dist
