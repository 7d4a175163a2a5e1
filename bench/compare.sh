#!/usr/bin/env bash
# compare.sh: completed Thaili payments per second against pgbench TPC-B
# transactions per second on this machine, with what each payment costs
# in latency, memory and CPU, in one bounded run (about 3 to 5 minutes
# with the defaults, depending on the machine and its load).
#
# It builds thaili, then for PostgreSQL: creates a fresh database, migrates
# it, starts `thaili serve` on 127.0.0.1, runs pgbench TPC-B (scale 10) on a
# separate scratch database with CLIENTS clients for SECONDS, then
# `thaili bench` with CLIENTS payers for SECONDS in two setups, one hot
# merchant and 16 merchants, then RUNS more one-merchant runs back to back
# on the same database (the sustained line: does the rate hold while the
# tables grow?). Then the same two setups and sustained runs against a
# server on a temporary SQLite file.
#
# Between pgbench TPC-B and the first thaili run, pgbench also runs one
# legacy payment's own statements (bench/payment.pgbench, set up by
# bench/payment-setup.sql on a fresh database) with the same clients: the
# rate of the database's share of a payment with no HTTP, no Go and no
# group commit, printed as payments/s and as a ratio to TPC-B, and each
# PostgreSQL row's payments/s as a share of it. Then the least a payment
# with a double-entry ledger can write (bench/ledger-floor.pgbench, set up
# by bench/ledger-floor-setup.sql): a payment row of five columns, holds,
# and the two entries, one durable statement per request; what Thaili
# writes besides is the payment record Khalti's API returns and the
# payer's checks. Printed as the "ledger floor" line.
#
# After the two setups of each store, one more one-merchant run on a fresh
# database with `thaili bench --in-process`: bench calls the payment
# service in its own process, as the API's handlers do, with no server and
# no HTTP. Its rate is what the service and the store can do here; each
# store's one-merchant rate over HTTP as a share of it is what the HTTP
# requests cost. The summary prints them on the "no HTTP" lines.
#
# For each setup it prints payments/s, the pgbench tps of this run and the
# ratio payments/s ÷ tps, p50 and p99 of each step (initiate, confirm,
# verify), the server's peak RSS (VmHWM, since it started), and CPU time
# per payment of the server, the database and bench itself, which
# `thaili bench --cpu` reads from /proc just before the payers start and
# just after they stop (not setup, not the ledger check). The database's
# figure is the whole PostgreSQL server's, its postmaster and every
# process under it, so other clients of that server during a run count
# too: the script marks the figure with * when it saw any. On SQLite the
# database runs inside the server. Last, the store's committer, which
# every write of the server waits behind (docs/storage.md, "Group
# commit"): the share of the run it was busy (per lane: PostgreSQL's
# has two, SQLite's one) and how many requests shared
# a batch, from the server's /metrics (`thaili bench` prints them as its
# committer: line). For the sustained runs it prints each
# run's payments/s, the last's ratio to the first's, and each run's CPU per
# payment (on a shared machine a run can be slower only because others
# took the cores; then its CPU per payment stays the same).
#
# Every bench run ends with the ledger check. The script goes on after a
# failed run, so the summary shows all of them, then exits 1 naming every
# run that failed, found a ledger violation or had request errors.
# Everything listens on loopback; everything it starts is killed and every
# database it creates is dropped on exit.
#
# Parameters (environment):
#   CLIENTS=8           pgbench clients and bench payers
#   SECONDS=10          length of the pgbench run and of each bench run
#                       (BENCH_SECONDS also works; bash's own SECONDS counter
#                       is read once, at start)
#   RUNS=5              sustained bench runs per store (0: none)
#   PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres   the PostgreSQL server
#
# The servers and bench run as live deployments (THAILI_SANDBOX=false), at
# a live deployment's hash costs.
set -euo pipefail

# Bash counts SECONDS up from its initial (environment) value; read it first.
DURATION=${BENCH_SECONDS:-$SECONDS}
if [[ -z "$DURATION" || "$DURATION" -lt 1 ]]; then DURATION=10; fi
CLIENTS=${CLIENTS:-8}
RUNS=${RUNS:-5}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}

if [[ "$PGHOST" != 127.* && "$PGHOST" != localhost && "$PGHOST" != ::1 ]]; then
	echo "compare.sh: PGHOST must be a loopback address, not $PGHOST" >&2
	exit 2
fi
case "$CLIENTS$DURATION$RUNS" in *[!0-9]*)
	echo "compare.sh: CLIENTS, SECONDS and RUNS must be whole numbers" >&2
	exit 2
	;;
esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/thaili-compare.XXXXXX")
RUN=$$
PGDB=thaili_bench_$RUN
SCRATCH=thaili_pgbench_$RUN
FLOOR=thaili_payment_sql_$RUN
LEDGERFLOOR=thaili_ledger_floor_$RUN
NOHTTP=thaili_no_http_$RUN
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
SANDBOX=false
export THAILI_SANDBOX=$SANDBOX
unset THAILI_MPIN_ITERATIONS # no longer used (docs/identity.md, "The MPIN hash")

echo "== machine: $(nproc) CPU(s), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $(go version | cut -d' ' -f3-), $(psql -Atc 'show server_version' postgres | sed 's/^/PostgreSQL /')"
echo "== CLIENTS=$CLIENTS SECONDS=$DURATION RUNS=$RUNS"

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

# postmaster_pid: the PostgreSQL postmaster's pid, whose descendants are
# every backend and background process of the server, or nothing. The
# first line of postmaster.pid in the data directory names it where this
# user may read both (a superuser, or the postgres user); else it is the
# parent of the checkpointer, which any user sees in pg_stat_activity and
# ps. Either way it must be a postgres process on this machine.
postmaster_pid() {
	local dir pid='' child
	dir=$(psql -Atqc 'show data_directory' postgres 2>/dev/null || true)
	if [[ -n "$dir" && -r "$dir/postmaster.pid" ]]; then
		pid=$(head -1 "$dir/postmaster.pid")
	fi
	if [[ ! "$pid" =~ ^[0-9]+$ ]]; then
		child=$(psql -Atqc "select pid from pg_stat_activity where backend_type = 'checkpointer'" postgres 2>/dev/null || true)
		if [[ "$child" =~ ^[0-9]+$ ]]; then pid=$(ps -o ppid= -p "$child" 2>/dev/null | tr -d ' ' || true); fi
	fi
	if [[ "$pid" =~ ^[0-9]+$ ]] && grep -qxE 'postgres|postmaster' "/proc/$pid/comm" 2>/dev/null; then
		echo "$pid"
	fi
}

# other_clients: how many connections other than this script's server's
# (and this query's) the PostgreSQL server has; their work counts in the
# database's CPU.
other_clients() {
	psql -Atqc "select count(*) from pg_stat_activity where backend_type = 'client backend'
		and pid <> pg_backend_pid() and datname is distinct from '$PGDB'" postgres 2>/dev/null || echo 0
}

# cpu_of LABEL FILE: LABEL's CPU ms per payment on bench's cpu: line, or n/a.
cpu_of() {
	awk -v l="$1" '/^cpu:/ && match($0, "[ ,]" l " [0-9.]+ ms/payment") {
		split(substr($0, RSTART + 1, RLENGTH - 1), f, " "); v = f[2] }
		END { print (v == "" ? "n/a" : v) }' "$2"
}

# run_bench NAME DATABASE_URL MERCHANTS [BENCH FLAGS...]: runs thaili bench
# against the server at $SERVER_URL (or, for a NAME ending in -no-http,
# with --in-process: the service inside bench, no server) with its report
# in $TMP/NAME.out, and sets PPS, LAT (p50/p99 ms of each
# step), CPU_SERVER, CPU_DB, CPU_BENCH (ms/payment, or n/a) and
# COMMITTER (busy %/requests per batch, or n/a). A run
# that fails, finds a ledger violation or counts errors joins FAILURES.
run_bench() {
	local name=$1 db=$2 merchants=$3 out=$TMP/$1.out rc=0 errs ledger target=(--url "$SERVER_URL")
	shift 3
	if [[ "$name" == *-no-http ]]; then target=(--in-process); fi
	echo "-- $name: thaili bench ${target[*]} --payers $CLIENTS --duration ${DURATION}s --merchants $merchants $*"
	timeout $((DURATION + 300)) "$BIN" bench "${target[@]}" --database-url "$db" \
		--payers "$CLIENTS" --duration "${DURATION}s" --merchants "$merchants" "$@" | tee "$out" || rc=$?
	PPS=$(awk '/^throughput:/ {print $2}' "$out")
	PPS=${PPS:-0}
	LAT=()
	for step in initiate confirm verify; do
		LAT+=("$(awk -v s="$step" '$1 == s && NF == 6 {v = sprintf("%.1f/%.1f", $3, $5)} END {print (v == "" ? "n/a" : v)}' "$out")")
	done
	CPU_SERVER=$(cpu_of server "$out")
	CPU_DB=$(cpu_of db "$out")
	CPU_BENCH=$(cpu_of bench "$out")
	COMMITTER=$(awk '/^committer: busy / {v = sprintf("%.0f%%/%.1f", $3, $8)} END {print (v == "" ? "n/a" : v)}' "$out")
	errs=$(awk '/^errors:/ {print $2}' "$out")
	ledger=$(grep -m1 '^ledger check:' "$out" || true)
	if ((rc != 0)); then
		FAILURES+=("$name: thaili bench exited with status $rc${ledger:+ ($ledger)}")
	elif [[ "$ledger" != "ledger check: ok" ]]; then
		FAILURES+=("$name: its report has no 'ledger check: ok'")
	elif [[ "$errs" != 0 ]]; then
		FAILURES+=("$name: ${errs:-an unknown number of} request error(s)")
	fi
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

ROWFMT='%-9s %9s %10s %11s %6s %12s %12s %12s %10s %8s %9s %7s %11s\n'
ROWS=()
SUSTAINED=()
FAILURES=()
NOTES=()
SQLSHARE=''
NOHTTP_LINES=()

# row STORE MERCHANTS DB_CPU: a summary row from the last run_bench.
row() {
	ROWS+=("$(printf "$ROWFMT" "$1" "$2" "$PPS" "$TPS" "$(ratio "$PPS" "$TPS")" "${LAT[@]}" \
		"$(peak_rss "$SERVER_PID")" "$CPU_SERVER" "$3" "$CPU_BENCH" "$COMMITTER")")
}

# sustain STORE DATABASE_URL [BENCH FLAGS...]: RUNS one-merchant runs in a
# row on the same database, and the lines that sum them up: each run's
# payments/s and the last's ratio to the first's, then each run's CPU ms
# per payment, which tells a slower run on a busier machine (same CPU per
# payment) from one where each payment costs more (more CPU per payment).
sustain() {
	local store=$1 db=$2 i first='' rates='' server='' dbcpu=''
	shift 2
	((RUNS > 0)) || return 0
	for ((i = 1; i <= RUNS; i++)); do
		run_bench "$store-sustained-$i" "$db" 1 "$@"
		rates+=" $PPS"
		server+=" $CPU_SERVER"
		dbcpu+=" $CPU_DB"
		first=${first:-$PPS}
	done
	SUSTAINED+=("$(printf '%-9s %d x %ss, 1 merchant:%s payments/s; run %d ÷ run 1: %s' \
		"$store" "$RUNS" "$DURATION" "$rates" "$RUNS" "$(ratio "$PPS" "$first")")")
	if [[ "$store" == postgres ]]; then
		SUSTAINED+=("$(printf '%-9s cpu ms/payment, server:%s; db:%s' '' "$server" "$dbcpu")")
	else
		SUSTAINED+=("$(printf '%-9s cpu ms/payment, server (with the database):%s' '' "$server")")
	fi
}

echo
echo "== PostgreSQL"
createdb "$PGDB"
DATABASES+=("$PGDB")
PGURL="postgres://$PGUSER@$PGHOST:$PGPORT/$PGDB"
"$BIN" migrate --database-url "$PGURL"
start_server "$TMP/serve-pg.log" "$PGURL"
PM_PID=$(postmaster_pid)
PG_CPU=(--cpu "server=$SERVER_PID")
if [[ -n "$PM_PID" ]]; then
	echo "   postmaster pid $PM_PID: the database's CPU is its and its descendants'"
	PG_CPU+=(--cpu "db=$PM_PID")
else
	echo "   the postmaster's pid is not to be found from here: the database's CPU is n/a"
fi

echo "-- pgbench TPC-B: -i -s 10 on $SCRATCH, then -c $CLIENTS -j 2 -T $DURATION"
createdb "$SCRATCH"
DATABASES+=("$SCRATCH")
timeout 600 pgbench -i -q -s 10 "$SCRATCH" >"$TMP/pgbench-init.log" 2>&1 || {
	cat "$TMP/pgbench-init.log" >&2
	exit 1
}
timeout $((DURATION + 300)) pgbench -c "$CLIENTS" -j 2 -T "$DURATION" "$SCRATCH" 2>&1 | tee "$TMP/pgbench.log" |
	grep -E '^(tps|latency average|number of transactions actually processed)'
TPS=$(awk '/^tps = / {printf "%.1f", $3; exit}' "$TMP/pgbench.log")
TPS=${TPS:-0}
dropdb "$SCRATCH" # free its memory and disk before thaili runs
DATABASES=("$PGDB")

# The database's share of a payment: one legacy payment's statements as
# Thaili's store sends them (bench/payment.pgbench, generated from the
# store's code and kept in step by its tests), driven by pgbench's C client
# with no HTTP, no Go and no group commit, on a fresh database holding
# only what bench/payment-setup.sql creates. Every payment it counts must
# complete and leave a clean ledger.
echo "-- a payment's statements alone: pgbench -M prepared -f bench/payment.pgbench on $FLOOR, -c $CLIENTS -j 2 -T $DURATION"
createdb "$FLOOR"
DATABASES+=("$FLOOR")
FLOORURL="postgres://$PGUSER@$PGHOST:$PGPORT/$FLOOR"
"$BIN" migrate --database-url "$FLOORURL" >/dev/null 2>&1
psql -q -v ON_ERROR_STOP=1 -v payers="$CLIENTS" -f "$ROOT/bench/payment-setup.sql" "$FLOOR" >/dev/null
timeout $((DURATION + 300)) pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$DURATION" -f "$ROOT/bench/payment.pgbench" "$FLOOR" 2>&1 |
	tee "$TMP/pgbench-payment.log" | grep -E '^(tps|latency average|number of (transactions actually processed|failed transactions))'
SQLTPS=$(awk '/^tps = / {printf "%.1f", $3; exit}' "$TMP/pgbench-payment.log")
SQLTPS=${SQLTPS:-0}
open=$(psql -Atqc "select count(*) from payments where state <> 'Completed'" "$FLOOR")
if grep -q 'aborted' "$TMP/pgbench-payment.log" || [[ "$SQLTPS" == 0 || "$open" != 0 ]]; then
	FAILURES+=("payment statements alone: pgbench aborted, made no payment or left $open payment(s) not Completed ($TMP/pgbench-payment.log)")
fi
if ! "$BIN" ledger check --database-url "$FLOORURL" >"$TMP/ledger-payment.log" 2>&1; then
	FAILURES+=("payment statements alone: the ledger check failed ($TMP/ledger-payment.log)")
fi
dropdb "$FLOOR"
DATABASES=("$PGDB")

# The least a payment with a double-entry ledger writes, on a database of
# its own: every payment it counts must complete, every entry sum to zero
# and every balance be its postings' sum.
echo "-- the ledger floor: pgbench -M prepared -f bench/ledger-floor.pgbench on $LEDGERFLOOR, -c $CLIENTS -j 2 -T $DURATION"
createdb "$LEDGERFLOOR"
DATABASES+=("$LEDGERFLOOR")
psql -q -v ON_ERROR_STOP=1 -v payers="$CLIENTS" -f "$ROOT/bench/ledger-floor-setup.sql" "$LEDGERFLOOR" >/dev/null
timeout $((DURATION + 300)) pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$DURATION" -f "$ROOT/bench/ledger-floor.pgbench" "$LEDGERFLOOR" 2>&1 |
	tee "$TMP/pgbench-floor.log" | grep -E '^(tps|latency average|number of (transactions actually processed|failed transactions))'
FLOORTPS=$(awk '/^tps = / {printf "%.1f", $3; exit}' "$TMP/pgbench-floor.log")
FLOORTPS=${FLOORTPS:-0}
unsound=$(psql -Atqc "select (select count(*) from floor_payments where state <> 'Completed')
	+ (select count(*) from (select entry_id from floor_postings group by entry_id having sum(amount) <> 0) as e)
	+ (select count(*) from floor_accounts a where a.balance <> (select coalesce(sum(p.amount), 0) from floor_postings p where p.account_id = a.id))" "$LEDGERFLOOR")
if grep -q 'aborted' "$TMP/pgbench-floor.log" || [[ "$FLOORTPS" == 0 || "$unsound" != 0 ]]; then
	FAILURES+=("ledger floor: pgbench aborted, made no payment, or left $unsound unfinished payment(s), unbalanced entries or balances ($TMP/pgbench-floor.log)")
fi
dropdb "$LEDGERFLOOR"
DATABASES=("$PGDB")
# Write pgbench's dirty pages out now, not in the checkpointer during the
# first bench run, where its CPU would count as thaili's (needs superuser
# or pg_checkpoint; without either the checkpoint comes when it comes).
psql -Atqc checkpoint postgres >/dev/null 2>&1 || true

for m in 1 16; do
	others=$(other_clients)
	run_bench "postgres-$m" "$PGURL" "$m" "${PG_CPU[@]}"
	others=$((others + $(other_clients)))
	db=$CPU_DB
	if ((others > 0)) && [[ "$db" != n/a ]]; then
		db="$db*"
		NOTES+=("* postgres, $m merchant(s): $others connection(s) of other clients seen before and after the run; their work may count in db")
	fi
	row postgres "$m" "$db"
	SQLSHARE+=" $m merchant(s) $(ratio "$PPS" "$SQLTPS");"
	if ((m == 1)); then PG_HTTP=$PPS; fi
done

# The same payments with no HTTP: bench calls the payment service in its
# own process on a fresh database, as the API's handlers do. What the
# server's run loses against it is what the HTTP requests cost (the
# server's network, JSON and scheduling, on the cores the rest shares).
createdb "$NOHTTP"
DATABASES+=("$NOHTTP")
NOHTTPURL="postgres://$PGUSER@$PGHOST:$PGPORT/$NOHTTP"
"$BIN" migrate --database-url "$NOHTTPURL" >/dev/null 2>&1
run_bench postgres-no-http "$NOHTTPURL" 1 ${PM_PID:+--cpu "db=$PM_PID"}
NOHTTP_LINES+=("$(printf 'postgres: %s payments/s, ratio %s, ÷ its statements alone %s; over HTTP ÷ this %s; cpu ms/payment bench with the service %s, db %s; committer %s' \
	"$PPS" "$(ratio "$PPS" "$TPS")" "$(ratio "$PPS" "$SQLTPS")" "$(ratio "$PG_HTTP" "$PPS")" "$CPU_BENCH" "$CPU_DB" "$COMMITTER")")
dropdb "$NOHTTP"
DATABASES=("$PGDB")

sustain postgres "$PGURL" "${PG_CPU[@]}"
PG_PID=$SERVER_PID

echo
echo "== SQLite"
SQLITE="$TMP/thaili.db"
start_server "$TMP/serve-sqlite.log" "$SQLITE"
for m in 1 16; do
	run_bench "sqlite-$m" "$SQLITE" "$m" --cpu "server=$SERVER_PID"
	row sqlite "$m" "in server"
	if ((m == 1)); then LITE_HTTP=$PPS; fi
done
"$BIN" migrate --database-url "$TMP/no-http.db" >/dev/null 2>&1
run_bench sqlite-no-http "$TMP/no-http.db" 1
NOHTTP_LINES+=("$(printf 'sqlite:   %s payments/s, ratio %s; over HTTP ÷ this %s; cpu ms/payment bench with the service and the database %s; committer %s' \
	"$PPS" "$(ratio "$PPS" "$TPS")" "$(ratio "$LITE_HTTP" "$PPS")" "$CPU_BENCH" "$COMMITTER")")
rm -f "$TMP"/no-http.db*
sustain sqlite "$SQLITE" --cpu "server=$SERVER_PID"
kill "$PG_PID" "$SERVER_PID" 2>/dev/null || true

echo
echo "== summary: $CLIENTS clients/payers, ${DURATION}s per run, load average now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pgbench TPC-B scale 10, $CLIENTS clients, -j 2: $TPS tps; ratio = payments/s ÷ pgbench tps"
echo "a payment's statements alone (pgbench -f bench/payment.pgbench, same clients): $SQLTPS payments/s, ratio $(ratio "$SQLTPS" "$TPS")"
echo "ledger floor (pgbench -f bench/ledger-floor.pgbench, same clients): $FLOORTPS payments/s, ratio $(ratio "$FLOORTPS" "$TPS")"
printf '%49s %-38s %10s %-27s %s\n' '' '   p50/p99 ms of each step' 'server' '  cpu ms per payment' ' committer'
printf "$ROWFMT" store merchants payments/s 'pgbench tps' ratio initiate confirm verify VmHWM server db bench 'busy/batch'
printf '%s\n' "${ROWS[@]}"
echo "thaili on postgres ÷ its statements alone:${SQLSHARE%;}"
echo "no HTTP (thaili bench --in-process, 1 merchant, a fresh database):"
printf '  %s\n' "${NOHTTP_LINES[@]}"
for n in "${NOTES[@]}"; do echo "$n"; done
if ((RUNS > 0)); then
	echo "sustained:"
	printf '%s\n' "${SUSTAINED[@]}"
fi
if ((${#FAILURES[@]} > 0)); then
	echo
	echo "compare.sh: FAILED: ${#FAILURES[@]} bench run(s) failed, found a ledger violation or had errors:" >&2
	printf '  %s\n' "${FAILURES[@]}" >&2
	exit 1
fi
