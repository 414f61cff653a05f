#!/usr/bin/env bash
# Set up and open the operator console. With no database configured it starts an embedded
# PostgreSQL in .pruner/, seeds demo data on first use and opens the console in demo mode.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/pruner console "$@"
