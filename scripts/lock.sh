#!/usr/bin/env bash
# Re-resolve requirements.lock from pyproject.toml (run after changing dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pip install -q uv
.venv/bin/uv pip compile pyproject.toml --extra console --extra test --python-version 3.11 --generate-hashes \
  -o requirements.lock
