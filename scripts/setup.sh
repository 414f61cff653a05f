#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine (root or not): PostgreSQL server binaries, the
# locked Python environment in .venv, and with --browser Debian's Chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=0
[[ "${1:-}" == "--browser" ]] && want_browser=1

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  if [[ $apt_updated -eq 0 ]]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "setup: installing PostgreSQL (Debian package postgresql)"
  apt_install postgresql
fi
if [[ $want_browser -eq 1 && ! -x /usr/bin/chromium ]]; then
  echo "setup: installing Chromium (Debian package chromium)"
  apt_install chromium
fi

PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || "$(cat "$stamp")" != "$want" ]]; then
  echo "setup: installing the locked Python dependencies into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes \
    -r requirements.lock 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e . 2>&1 \
    | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import core, streamlit, asyncpg"  # fail here, not in the middle of a test
  echo "$want" > "$stamp"
fi
