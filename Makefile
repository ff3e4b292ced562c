# Two set-up commands for a fresh clone: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: demo test test-all test-slow test-reliability lint bench bench-quick docs dist clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11 or run make PYTHON=python3"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# torch is pinned to 2.13.0 in pyproject.toml (CPU build available locally).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[embed,test,catalogue,serve,mcp]'
	@touch $(STAMP)

demo: $(STAMP)
	rm -rf .planvec-demo
	$(BIN)/planvec model prepare  # the one-time ONNX export (~15 s), not hidden in the first index
	$(BIN)/planvec parse examples/plans
	$(BIN)/planvec index examples/plans --index .planvec-demo
	$(BIN)/planvec search "mettre en place la sauvegarde de la base" --index .planvec-demo --limit 5
	$(BIN)/planvec search "write the API documentation" --index .planvec-demo --limit 5 --status todo
	$(BIN)/planvec health --index .planvec-demo
	# the managers (docs/managers.md) on a small bundled project, one search per kind
	$(BIN)/planvec managers run examples/project --index .planvec-demo --report .planvec-demo/managers.md
	$(BIN)/planvec search "react" --kind dependency --index .planvec-demo --limit 3
	$(BIN)/planvec search "FastAPI" --kind dependency,task --index .planvec-demo --limit 5
	$(BIN)/planvec deps links fastapi --index .planvec-demo
	$(BIN)/planvec search "database connection pool" --kind config --index .planvec-demo --limit 3
	$(BIN)/planvec search "rotation des mots de passe" --kind policy --index .planvec-demo --limit 3
	# the schemas manager reads a PostgreSQL: a throwaway one (pgserver) with the example schema
	$(BIN)/python scripts/demo_schemas.py --index .planvec-demo

test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -m "not slow and not server" -p no:cacheprovider -n 2

test-slow: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[embed,test,catalogue,docs,release]'
	$(BIN)/python -m pytest -q -m "slow"

# the full crash/fault/fuzz loops; figures for docs/reliability.md land in bench/out/
test-reliability: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[embed,test,catalogue,reliability]'
	@mkdir -p bench/out
	RELIABILITY_FIGURES=bench/out/reliability.json \
	  $(BIN)/python -m pytest -q -m "reliability" --reliability-full -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench-quick: $(STAMP)
	$(BIN)/python bench/run.py --quick

bench: $(STAMP)
	$(BIN)/python bench/run.py

# the documentation site into site/ (mkdocs build --strict: a warning fails the build);
# needs only the core package and the docs extra, not the model
DOCS_STAMP := $(VENV)/.docs-installed
$(DOCS_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	@touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# sdist and wheel into dist/ (the version comes from planvec.__version__)
dist: | $(BIN)/python
	$(BIN)/python -m pip install --quiet build
	rm -rf dist
	$(BIN)/python -m build

clean:
	rm -rf $(VENV) .planvec .planvec-demo build dist site src/*.egg-info
