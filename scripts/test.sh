#!/usr/bin/env bash
# Set up (PostgreSQL, Chromium, the locked .venv) and run every test: lint, import contracts,
# types, the library/CLI/console/reliability tiers on throwaway PostgreSQL clusters they start
# themselves (one per xdist worker), the real Backend.AI schemas (built once with the
# platform's own oneshot and cached), the browser tests in headless Chromium, and the notebook.
# Any failure, or a step that collects no tests, fails the run.
# The fast (pure) tier alone: .venv/bin/python -m pytest tests/unit; with PostgreSQL:
# .venv/bin/python -m pytest -n auto -m "unit or pg" tests
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser

step() { echo; echo "=== $*"; }
# pytest exits 5 when it collected nothing; for us that is a failure, not a pass.
pytest_step() {
  local rc=0
  .venv/bin/python -m pytest "$@" || rc=$?
  if [[ $rc -eq 5 ]]; then echo "test.sh: pytest collected no tests for: $*" >&2; exit 1; fi
  [[ $rc -eq 0 ]] || exit "$rc"
}

step "ruff"
.venv/bin/ruff check .

step "import contracts (import-linter)"
.venv/bin/lint-imports

step "types (mypy; strict for core)"
.venv/bin/mypy

step "Backend.AI manager schemas (the platform's oneshot, cached in .pruner/cache)"
if ! .venv/bin/python -m core.demo.backendai build; then
  echo "test.sh: could not build the Backend.AI schemas the realschema tests need (reason above;" \
       "it needs Python >= 3.13 - set PRUNER_PY313 - and PyPI access on the first run)" >&2
  exit 1
fi

step "unit, library/CLI (pg), console (AppTest) and reliability tiers"
pytest_step -n auto -m "unit or pg or console or reliability" tests

step "real Backend.AI schemas (26.8, 26.9)"
pytest_step -n auto -m realschema tests/realschema

step "browser end-to-end tests (headless Chromium)"
pytest_step -m browser tests/e2e

step "notebook"
pytest_step --nbmake console/notebook.ipynb
