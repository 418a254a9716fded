#!/usr/bin/env bash
# The everyday inner loop (under two minutes on 2 cores): ruff, then pytest on SQLite without the
# slow and browser tests, two workers. Needs an environment with the test extra, e.g. .venv from
# scripts/test.sh, on PATH or as ./.venv. Extra arguments go to pytest:
#
#   bash scripts/quick.sh                      # ruff + the quick tests
#   bash scripts/quick.sh tests/permits -x     # only those, stop at the first failure
#
# Before pushing, run the whole suite (bash scripts/test.sh, which CI runs): mypy, Django's
# checks, the slow and browser tests, and the PostgreSQL pass are only there.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .venv/bin/python ]; then
    export PATH="$PWD/.venv/bin:$PATH"
fi
unset DATABASE_URL  # SQLite only
echo "== ruff"
ruff check src tests bench
ruff format --check src tests bench
echo "== layers"
lint-imports --no-cache
echo "== tests on SQLite (not slow, not browser, not postgres)"
exec pytest -n 2 --dist loadfile -p no:cacheprovider -q \
    -m "not slow and not browser and not postgres" "$@"
