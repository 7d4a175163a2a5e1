#!/usr/bin/env bash
# compare.sh: completed Thaili payments per second against pgbench TPC-B
# transactions per second, on this machine, in one bounded run.
#
# It builds thaili, then for PostgreSQL: creates a fresh database, migrates
# it, starts `thaili serve` on 127.0.0.1, runs pgbench TPC-B (scale 10) on a
# separate scratch database with CLIENTS clients, then `thaili bench` with
# CLIENTS payers for one hot merchant and for 16 merchants. Then the same
# two bench runs against a server on a temporary SQLite file. It prints
# payments/s, the ratio payments/s ÷ pgbench tps, and each server's peak
# RSS (VmHWM). Everything listens on loopback; everything it starts is
# killed and every database it creates is dropped on exit.
#
# Parameters (environment):
#   CLIENTS=16          pgbench clients and bench payers
#   SECONDS=10          length of the pgbench run and of each bench run
#                       (BENCH_SECONDS also works; bash's own SECONDS counter
#                       is read once, at start)
#   PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres   the PostgreSQL server
#   THAILI_MPIN_ITERATIONS  MPIN hash rounds (default: thaili's); the
#                       rounds are stored in each hash, so this applies to
#                       the payers bench creates and to the servers alike.
#                       A live deployment refuses fewer than 10000, so with
#                       fewer the servers and bench run as a sandbox
#                       (THAILI_SANDBOX=true; on SQLite the demo merchant
#                       is then seeded too, and not used)
set -euo pipefail

# Bash counts SECONDS up from its initial (environment) value; read it first.
DURATION=${BENCH_SECONDS:-$SECONDS}
if [[ -z "$DURATION" || "$DURATION" -lt 1 ]]; then DURATION=10; fi
CLIENTS=${CLIENTS:-16}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}

if [[ "$PGHOST" != 127.* && "$PGHOST" != localhost && "$PGHOST" != ::1 ]]; then
	echo "compare.sh: PGHOST must be a loopback address, not $PGHOST" >&2
	exit 2
fi
case "$CLIENTS$DURATION" in *[!0-9]*)
	echo "compare.sh: CLIENTS and SECONDS must be whole numbers" >&2
	exit 2
	;;
esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/thaili-compare.XXXXXX")
RUN=$$
PGDB=thaili_bench_$RUN
SCRATCH=thaili_pgbench_$RUN
SERVERS=()
DATABASES=()

cleanup() {
	local pid db
	for pid in "${SERVERS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	for db in "${DATABASES[@]}"; do
		dropdb --if-exists "$db" 2>/dev/null || echo "compare.sh: could not drop database $db" >&2
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

THAILI_SECRET=${THAILI_SECRET:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}
export THAILI_SECRET
MPIN_ITERATIONS=${THAILI_MPIN_ITERATIONS:-default (10000)}
SANDBOX=false
if [[ -n "${THAILI_MPIN_ITERATIONS:-}" && "$THAILI_MPIN_ITERATIONS" -lt 10000 ]]; then SANDBOX=true; fi
export THAILI_SANDBOX=$SANDBOX

echo "== machine: $(nproc) CPU(s), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "== $(go version | cut -d' ' -f3-), $(psql -Atc 'show server_version' postgres | sed 's/^/PostgreSQL /')"
echo "== CLIENTS=$CLIENTS SECONDS=$DURATION THAILI_MPIN_ITERATIONS=$MPIN_ITERATIONS"

echo "== building thaili"
(cd "$ROOT" && go build -o "$TMP/thaili" ./cmd/thaili)
BIN=$TMP/thaili

# start_server LOGFILE DATABASE_URL: starts thaili serve on a free loopback
# port, waits for /healthz and sets SERVER_PID and SERVER_URL.
start_server() {
	local log=$1 db=$2 i
	"$BIN" serve --database-url "$db" --addr 127.0.0.1:0 --sandbox=$SANDBOX >"$log.out" 2>"$log" &
	SERVER_PID=$!
	SERVERS+=("$SERVER_PID")
	SERVER_URL=
	for ((i = 0; i < 300; i++)); do
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			echo "compare.sh: thaili serve exited:" >&2
			cat "$log" >&2
			exit 1
		fi
		if [[ -z "$SERVER_URL" ]]; then
			SERVER_URL=$(grep -o 'listening on http://[0-9.:]*' "$log" | head -1 | cut -d' ' -f3 || true)
		fi
		if [[ -n "$SERVER_URL" ]] && curl -fsS -m 2 "$SERVER_URL/healthz" >/dev/null 2>&1; then
			echo "   server pid $SERVER_PID at $SERVER_URL ($db)"
			return
		fi
		sleep 0.1
	done
	echo "compare.sh: thaili serve did not become healthy within 30s" >&2
	exit 1
}

# peak_rss PID: the process's peak resident set size (VmHWM).
peak_rss() {
	awk '/^VmHWM:/ {printf "%.1f MiB", $2/1024}' "/proc/$1/status"
}

# run_bench DATABASE_URL MERCHANTS: runs thaili bench and sets PPS.
run_bench() {
	local db=$1 merchants=$2 out=$TMP/bench.out
	echo "-- thaili bench --payers $CLIENTS --duration ${DURATION}s --merchants $merchants"
	timeout $((DURATION + 300)) "$BIN" bench --url "$SERVER_URL" --database-url "$db" \
		--payers "$CLIENTS" --duration "${DURATION}s" --merchants "$merchants" | tee "$out"
	PPS=$(awk '/^throughput:/ {print $2}' "$out")
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

ROWS=()

echo
echo "== PostgreSQL"
createdb "$PGDB"
DATABASES+=("$PGDB")
PGURL="postgres://$PGUSER@$PGHOST:$PGPORT/$PGDB"
"$BIN" migrate --database-url "$PGURL"
start_server "$TMP/serve-pg.log" "$PGURL"

echo "-- pgbench TPC-B: -i -s 10 on $SCRATCH, then -c $CLIENTS -j 2 -T $DURATION"
createdb "$SCRATCH"
DATABASES+=("$SCRATCH")
timeout 600 pgbench -i -q -s 10 "$SCRATCH" >"$TMP/pgbench-init.log" 2>&1 || {
	cat "$TMP/pgbench-init.log" >&2
	exit 1
}
timeout $((DURATION + 300)) pgbench -c "$CLIENTS" -j 2 -T "$DURATION" "$SCRATCH" 2>&1 | tee "$TMP/pgbench.log" |
	grep -E '^(tps|latency average|number of transactions actually processed)'
TPS=$(awk '/^tps = / {print $3; exit}' "$TMP/pgbench.log")
dropdb "$SCRATCH" # free its memory and disk before thaili runs
DATABASES=("$PGDB")

for m in 1 16; do
	run_bench "$PGURL" "$m"
	ROWS+=("$(printf '%-10s %9s %12s %10s %14s' postgres "$m" "$PPS" "$(ratio "$PPS" "$TPS")" "$(peak_rss "$SERVER_PID")")")
done
PG_PID=$SERVER_PID

echo
echo "== SQLite"
SQLITE="$TMP/thaili.db"
start_server "$TMP/serve-sqlite.log" "$SQLITE"
for m in 1 16; do
	run_bench "$SQLITE" "$m"
	ROWS+=("$(printf '%-10s %9s %12s %10s %14s' sqlite "$m" "$PPS" "$(ratio "$PPS" "$TPS")" "$(peak_rss "$SERVER_PID")")")
done
kill "$PG_PID" "$SERVER_PID" 2>/dev/null || true

echo
echo "== summary: $CLIENTS clients/payers, ${DURATION}s per run, MPIN iterations $MPIN_ITERATIONS"
echo "pgbench TPC-B scale 10, $CLIENTS clients, -j 2: $TPS tps"
printf '%-10s %9s %12s %10s %14s\n' database merchants payments/s '÷ tps' 'server VmHWM'
printf '%s\n' "${ROWS[@]}"
