#!/usr/bin/env bash
# Runs the whole WapBridge test suite: unit, API (SQLite and PostgreSQL), bunit and headless-Chromium tests,
# and the Baileys bridge's own Node.js tests (installing its packages with npm ci when they are missing).
# Installs and starts what the tests need (Debian's chromium and postgresql) when run as root.
# With CI=true, PostgreSQL and browser tests fail instead of skipping when their dependency is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

need_packages=()
[ -x /usr/bin/chromium ] || need_packages+=(chromium)
# The fake WhatsApp server's media host makes a throwaway TLS certificate with openssl.
command -v openssl >/dev/null 2>&1 || need_packages+=(openssl)
command -v pg_ctlcluster >/dev/null 2>&1 || need_packages+=(postgresql)
if [ ${#need_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    log "Installing ${need_packages[*]} from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need_packages[@]}" >/dev/null
  else
    echo "Not root: cannot install ${need_packages[*]}; the tests that need them will skip." >&2
  fi
fi

if command -v pg_ctlcluster >/dev/null 2>&1 && [ -z "${TEST_POSTGRES_CONNECTION:-}" ]; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
  if [ -n "$version" ]; then
    log "Starting PostgreSQL $version"
    if [ "$(id -u)" = 0 ]; then
      pg_ctlcluster "$version" main start 2>/dev/null || true
      for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
      su postgres -c "psql -q -c \"alter user postgres password 'postgres'\"" >/dev/null
    fi
    if pg_isready -q -h 127.0.0.1 -p 5432; then
      export TEST_POSTGRES_CONNECTION="Host=127.0.0.1;Port=5432;Username=postgres;Password=postgres;Database=postgres"
    fi
  fi
fi

if [ "${CI:-}" = "true" ]; then
  export TEST_REQUIRE_POSTGRES=1 TEST_REQUIRE_BROWSER=1 TEST_REQUIRE_BAILEYS=1
fi

results=$(mktemp -d)
node_passed=0; node_failed=0; node_skipped=0; node_status=0
if [ -f baileys-bridge/package.json ]; then
  if command -v npm >/dev/null 2>&1; then
    if [ ! -d baileys-bridge/node_modules ]; then
      log "Installing the Baileys bridge's packages (npm ci)"
      (cd baileys-bridge && npm ci --no-audit --no-fund) || node_status=$?
    fi
    log "Baileys bridge tests (npm test)"
    set +e
    npm test --prefix baileys-bridge 2>&1 | tee "$results/node.log"
    status=${PIPESTATUS[0]}
    set -e
    [ "$status" -ne 0 ] && node_status=$status
    # node --test ends with "# pass N" (TAP) or "ℹ pass N" (spec reporter).
    count() { grep -E "^(# |ℹ )$1 [0-9]+" "$results/node.log" | tail -1 | grep -oE '[0-9]+$' || echo 0; }
    node_passed=$(count pass); node_failed=$(count fail); node_skipped=$(( $(count skipped) + $(count todo) ))
    if [ "$node_status" -ne 0 ] && [ "$node_failed" -eq 0 ]; then node_failed=1; fi
  elif [ "${CI:-}" = "true" ]; then
    echo "npm is not installed: cannot run the Baileys bridge tests" >&2
    node_failed=1; node_status=1
  else
    echo "npm is not installed: the Baileys bridge tests and the real-bridge test are skipped." >&2
  fi
fi

log "dotnet test"
set +e
dotnet test WapBridge.sln --nologo --logger "trx;LogFilePrefix=wapbridge" --results-directory "$results" 2>&1 | tee "$results/console.log"
status=${PIPESTATUS[0]}
set -e

# Totals over every test assembly, in the plain form CI reads.
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  n=$(sed -n 's/.* notExecuted="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${n:-0}))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
passed=$((passed + node_passed)); failed=$((failed + node_failed)); skipped=$((skipped + node_skipped))
[ "$status" -eq 0 ] && status=$node_status
echo
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
