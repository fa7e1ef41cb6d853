#!/usr/bin/env bash
# Runs every test: installs what is missing (PostgreSQL, Chromium, poppler-utils, npm, curl), starts a throwaway PostgreSQL
# cluster on 127.0.0.1, builds, runs the suite on SQLite and again on PostgreSQL, stops the cluster, and ends with
# one line "N passed, M failed". Exits non-zero when any test fails.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
RESULTS="$ROOT/artifacts/test-results"
rm -rf "$RESULTS"
mkdir -p "$RESULTS"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. System packages, only when absent.
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# The buyer journey runs the curl snippet the API keys page hands out, as a buyer would paste it.
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Stripe's Node library, which the payment tests use to sign webhooks exactly as Stripe does (pinned by its lock file).
npm ci --prefix tests/AgentMarket.Tests/Payments/node --no-audit --no-fund --loglevel=error
# The real clients the front-door tests drive: OpenAI's Node SDK, the MCP TypeScript SDK, DataStax's Langflow client.
npm ci --prefix tests/AgentMarket.Tests/Doors/node --no-audit --no-fund --loglevel=error
# A real OpenID Connect provider for the single sign-on tests, and an independent YAML parser for the Backstage export.
npm ci --prefix tests/AgentMarket.Tests/Sso/node --no-audit --no-fund --loglevel=error
npm ci --prefix tests/AgentMarket.Tests/Backstage/node --no-audit --no-fund --loglevel=error
# The Standard Webhooks reference library, which verifies the signatures of the webhooks the app sends.
npm ci --prefix tests/AgentMarket.Tests/Webhooks/node --no-audit --no-fund --loglevel=error

# 2. A throwaway PostgreSQL cluster on 127.0.0.1 (trust auth, no fsync: it lives for one run).
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PGBASE=$(mktemp -d /tmp/agentmarket-pg.XXXXXX)
PGPORT=${AGENTMARKET_PG_PORT:-55432}
while (echo > /dev/tcp/127.0.0.1/$PGPORT) 2>/dev/null; do PGPORT=$((PGPORT + 1)); done
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$PGBASE"
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi
stop_postgres() { as_pg "$PGBIN/pg_ctl" -D "$PGBASE/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$PGBASE"; }
trap stop_postgres EXIT
as_pg "$PGBIN/initdb" -D "$PGBASE/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 -N >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$PGBASE/data" -l "$PGBASE/server.log" -w -t 30 \
  -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGBASE -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null
POSTGRES="Host=127.0.0.1;Port=$PGPORT;Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=50"
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT"

# 3. Build once.
dotnet build AgentMarket.slnx -c Release -nologo -v q -clp:ErrorsOnly

# 4. Every test project on SQLite, then the host's tests again on PostgreSQL.
status=0
dotnet test AgentMarket.slnx -c Release --no-build -nologo -v q --logger "trx" --logger "console;verbosity=minimal" --results-directory "$RESULTS/sqlite" || status=1
AGENTMARKET_TEST_POSTGRES="$POSTGRES" dotnet test tests/AgentMarket.Tests/AgentMarket.Tests.csproj -c Release --no-build -nologo -v q \
  --logger "trx" --logger "console;verbosity=minimal" --results-directory "$RESULTS/postgres" || status=1

# 5. One line of totals over all runs, read from the TRX reports.
passed=0; failed=0
for trx in "$RESULTS"/*/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(echo "$counters" | sed -E 's/.* passed="([0-9]+)".*/\1/')
  f=$(echo "$counters" | sed -E 's/.* failed="([0-9]+)".*/\1/')
  passed=$((passed + p)); failed=$((failed + f))
done
if ! ls "$RESULTS"/*/*.trx >/dev/null 2>&1; then status=1; fi
[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed"
exit $status
