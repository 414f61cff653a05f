#!/usr/bin/env bash
# Set up (PostgreSQL, Chromium, the locked .venv) and run every test: lint, the library and CLI
# tests on a throwaway PostgreSQL cluster they start themselves, the browser tests in headless
# Chromium, and the notebook. Any failure, or a step that collects no tests, fails the run.
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

step "library, CLI, console (AppTest) and reliability tests"
pytest_step -m "not browser" tests

step "browser end-to-end tests (headless Chromium)"
pytest_step -m browser tests/e2e

step "notebook"
pytest_step --nbmake console/notebook.ipynb
