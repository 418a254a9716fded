#!/usr/bin/env bash
# Set up and run Aquifer's whole test suite: lint, type check, migrations check, then the tests
# on SQLite and on PostgreSQL. Works on a fresh machine with Python 3.11 (creates .venv).
#
#   bash scripts/test.sh            # everything it can reach; PostgreSQL and browser tests are
#                                   # skipped (and say so) when their server or chromium is absent
#   CI=true bash scripts/test.sh    # nothing is skipped: a missing service is a failure
#
# AQUIFER_TEST_PG_URL   the PostgreSQL server for the second pass
#                       (default postgres://postgres@127.0.0.1:5432/test; Django tests in test_test)
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
.venv/bin/python -m pip install -q -e '.[test]' 2>&1 | grep -v '^WARNING: Location' || true
.venv/bin/python -c 'import aquifer, django, pytest, shapely'  # the install above must have worked

export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"
ruff check src tests bench
ruff format --check src tests bench
echo "== layers (import-linter)"
lint-imports
echo "== mypy"
mypy
echo "== django checks"
AQUIFER_DATA_DIR="$(mktemp -d)" aquifer check --fail-level WARNING
AQUIFER_DATA_DIR="$(mktemp -d)" aquifer makemigrations --check --dry-run

PG_URL=${AQUIFER_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
pg_up() { .venv/bin/python - "$PG_URL" <<'PYEOF'
import sys, psycopg
try:
    psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://"), connect_timeout=3).close()
except Exception as exc:
    print(exc, file=sys.stderr); sys.exit(1)
PYEOF
}

echo "== tests on SQLite"
status=0
pytest -n 2 --dist loadfile -p no:cacheprovider "$@" || status=$?

echo "== tests on PostgreSQL ($PG_URL)"
if pg_up; then
    # Only the tests that reach the database: the pure cores ran in the first pass already.
    DATABASE_URL="$PG_URL" pytest -n 2 --dist loadfile -p no:cacheprovider \
        -m "not browser and not sqlite_only" --database-tests-only "$@" \
        || status=$?
elif [ "${CI:-}" = "true" ]; then
    echo "PostgreSQL is not reachable at $PG_URL and CI=true: failing" >&2
    status=1
else
    echo "PostgreSQL is not reachable at $PG_URL: the PostgreSQL pass is SKIPPED" >&2
fi
exit $status
