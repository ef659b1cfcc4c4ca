#!/usr/bin/env bash
# Mail benchmark for a release hallpass binary (issue 14; docs/email.md):
#  1. POST /v1/password/forgot latency while SMTP works, side by side with SMTP unreachable (a
#     listener that accepts connections and never greets, so every delivery attempt hangs until
#     smtp_timeout), for addresses of verified accounts (a token and a mail are written) and for
#     addresses nobody has (an audit record only); SQLite, the embedded default.
#  2. Outbox delivery throughput to a local SMTP sink (aiosmtpd): MAILS resets are requested while
#     the SMTP server is down, then it comes up and the retries drain the outbox; mails/s from the
#     first arrival to the last. One node on SQLite, one node on PostgreSQL, two nodes on one
#     PostgreSQL database (requests alternate between them), in one run; every mail is checked to
#     arrive exactly once (Message-ID).
#
#   bench/run-mail-bench.sh            run (settings from the environment, see below)
#   bench/run-mail-bench.sh --help
#
# Environment: HALLPASS_BIN (target/release/hallpass), PORT (18090; the second node PORT+1),
# ROUNDS (3; 0 skips part 1), DURATION (10s), CONNS (8), ACCOUNTS (100), MAILS (2000), PYTHON (/usr/bin/python3,
# with aiosmtpd), PG_URL (postgres://root@127.0.0.1:5432/test; a fresh database is created
# beside it and dropped), REDIS_URL (redis://127.0.0.1:6379; keys and channel unique per run),
# RESULTS_DIR (bench/results).
set -euo pipefail
export LC_ALL=C

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
cd "$REPO_ROOT"
# shellcheck source=bench/lib.sh
. "$SCRIPT_DIR/lib.sh"

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
	sed -n '2,21p' "$SCRIPT_DIR/${BASH_SOURCE[0]##*/}" | sed 's/^# \{0,1\}//'
	exit 0
fi
[[ $# -eq 0 ]] || die "unexpected arguments: $* (settings come from the environment; see --help)"

HALLPASS_BIN=${HALLPASS_BIN:-target/release/hallpass}
PORT=${PORT:-18090}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-8}
ACCOUNTS=${ACCOUNTS:-100}
MAILS=${MAILS:-2000}
PYTHON=${PYTHON:-/usr/bin/python3}
PG_URL=${PG_URL:-postgres://root@127.0.0.1:5432/test}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
RESULTS_DIR=${RESULTS_DIR:-bench/results}
WRK_SLACK_S=15
THREADS=$((CONNS < 2 ? 1 : 2))

for v in PORT CONNS ACCOUNTS MAILS; do
	[[ ${!v} =~ ^[0-9]+$ ]] && ((${!v} >= 1)) || die "bad $v '${!v}'"
done
[[ $ROUNDS =~ ^[0-9]+$ ]] || die "bad ROUNDS '$ROUNDS' (0 skips the latency part)"
DUR_S=$(to_secs "$DURATION")
for tool in wrk curl jq psql; do command -v "$tool" >/dev/null || die "needs $tool"; done
"$PYTHON" -c 'import aiosmtpd' 2>/dev/null || die "$PYTHON cannot import aiosmtpd (apt-get install python3-aiosmtpd)"
[[ -x $HALLPASS_BIN ]] || die "no executable at HALLPASS_BIN=$HALLPASS_BIN (cargo build --release -p hallpass-server)"
BIN=$(cd -- "$(dirname -- "$HALLPASS_BIN")" && pwd)/$(basename -- "$HALLPASS_BIN")
SINK_PY=$REPO_ROOT/crates/hallpass-server/tests/api/email/smtp_sink.py

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hallpass-mail-bench.XXXXXX")
DB_NAME=hallpass_mailbench_${STAMP,,}
PG_BENCH_URL=${PG_URL%/*}/$DB_NAME
mkdir -p "$RESULTS_DIR"
REPORT=$RESULTS_DIR/mail-$STAMP.md
declare -A PIDS=()
WRK_PID=""

cleanup() {
	local rc=$? name
	[[ -n $WRK_PID ]] && kill "$WRK_PID" 2>/dev/null
	for name in "${!PIDS[@]}"; do stop_pid "${PIDS[$name]}" 5; done
	psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $DB_NAME" >/dev/null 2>&1 || true
	if ((rc != 0)); then log "failed; logs kept in $TMP"; else rm -rf -- "$TMP"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }

# start_sink DIR PORT: aiosmtpd writing one JSON file per mail into DIR; its stdin is a FIFO held
# open by this script (the sink exits when its stdin closes).
start_sink() {
	mkdir -p "$1"
	[[ -p $TMP/sink.in ]] || mkfifo "$TMP/sink.in"
	exec 7<>"$TMP/sink.in"
	"$PYTHON" "$SINK_PY" "$1" "$2" <"$TMP/sink.in" >"$TMP/sink.out" 2>&1 &
	PIDS[sink]=$!
	local deadline=$((SECONDS + 10))
	until grep -q '^PORT' "$TMP/sink.out" 2>/dev/null; do
		((SECONDS < deadline)) || die "the SMTP sink did not start: $(cat "$TMP/sink.out")"
		sleep 0.1
	done
}
stop_sink() {
	stop_pid "${PIDS[sink]}" 5
	unset 'PIDS[sink]'
}
sink_count() { find "$1" -name '*.json' 2>/dev/null | wc -l; }

# A listener that takes connections and never says a word: SMTP "unreachable" in the worst way,
# every attempt hanging until smtp_timeout.
start_tarpit() {
	"$PYTHON" -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4096); print("ready", flush=True); time.sleep(1e9)' "$1" >"$TMP/tarpit.out" 2>&1 &
	PIDS[tarpit]=$!
	sleep 0.5
}

# write_config FILE SMTP_PORT [EXTRA_TOML]
write_config() {
	cat >"$1" <<EOF
secret_key_file = "$TMP/secret.key"
bus_channel = "mailbench_$STAMP"
redis_key_prefix = "mailbench_$STAMP:"
${3:-}

[rate_limit]
per_ip_per_minute = 0
account_failures_before_lockout = 0

[email]
smtp_url = "smtp://127.0.0.1:$2?tls=none"
from = "hallpass bench <bench@localhost>"
smtp_timeout = "10s"
mails_per_address_per_hour = 100000000
outbox_poll_interval = "1s"
EOF
}

# start_node NAME PORT CONFIG DATABASE_URL
start_node() {
	local name=$1 port=$2 url="http://127.0.0.1:$2"
	(cd "$TMP" && exec env -u HALLPASS_BIN "$BIN" serve --config "$3" --listen "127.0.0.1:$port" \
		--public-url "$url" --database-url "$4") >>"$TMP/$name.log" 2>&1 &
	PIDS[$name]=$!
	local deadline=$((SECONDS + 30)) code
	while :; do
		alive "${PIDS[$name]}" || die "$name exited during startup: $(tail -5 "$TMP/$name.log")"
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url/readyz" || true)
		[[ $code == 200 ]] && break
		((SECONDS < deadline)) || die "$name: /readyz did not answer 200 within 30 s"
		sleep 0.2
	done
}
stop_node() {
	stop_pid "${PIDS[$1]}" 10
	unset "PIDS[$1]"
}

post() { # post BASE PATH JSON -> status code
	curl -s --max-time 30 -o "$TMP/body" -w '%{http_code}' -H 'Content-Type: application/json' \
		-H 'Accept: application/json' --data-binary "$3" "$1$2" || echo curl-failed
}

# make_accounts BASE SINK_DIR PREFIX: ACCOUNTS signups with addresses, each verified with the link
# the sink received. Writes the addresses to $TMP/PREFIX-known.txt.
make_accounts() {
	local base=$1 sink=$2 prefix=$3 i code before
	before=$(sink_count "$sink")
	: >"$TMP/$prefix-known.txt"
	for ((i = 0; i < ACCOUNTS; i++)); do
		code=$(post "$base" /v1/signup "{\"username\":\"$prefix$i\",\"password\":\"violet anchor trombone seven\",\"email\":\"$prefix$i@bench.test\"}")
		[[ $code == 201 ]] || die "signup $prefix$i answered $code: $(head -c 300 "$TMP/body")"
		echo "$prefix$i@bench.test" >>"$TMP/$prefix-known.txt"
	done
	wait_for_mails "$sink" $((before + ACCOUNTS)) 60
	find "$sink" -name '*.json' -print0 | xargs -0 jq -r '.text' | grep -o 'hp_et_[A-Za-z0-9_-]\{43\}' | sort -u >"$TMP/tokens"
	while read -r token; do
		code=$(post "$base" /v1/email/verify "{\"token\":\"$token\"}")
		[[ $code == 204 || $code == 400 ]] || die "verify answered $code: $(head -c 300 "$TMP/body")"
	done <"$TMP/tokens"
	rm -f "$sink"/*.json
}

wait_for_mails() { # wait_for_mails DIR COUNT LIMIT_SECONDS
	local deadline=$((SECONDS + $3))
	until (($(sink_count "$1") >= $2)); do
		((SECONDS < deadline)) || die "only $(sink_count "$1") of $2 mails arrived within $3 s"
		sleep 0.05
	done
}

# ---------------------------------------------------------------------------------------------
# 1. forgot-password latency: SMTP working vs hanging, known vs unknown addresses
# ---------------------------------------------------------------------------------------------

SINK_PORT=$(free_port)
TARPIT_PORT=$(free_port)
start_sink "$TMP/sink" "$SINK_PORT"
start_tarpit "$TARPIT_PORT"
write_config "$TMP/live.toml" "$SINK_PORT"
write_config "$TMP/hang.toml" "$TARPIT_PORT"
SQLITE_URL="sqlite://$TMP/latency.db"
BASE="http://127.0.0.1:$PORT"

if ((ROUNDS > 0)); then
	log "latency: accounts on SQLite"
	start_node node "$PORT" "$TMP/live.toml" "$SQLITE_URL"
	make_accounts "$BASE" "$TMP/sink" lat
	for ((i = 0; i < ACCOUNTS; i++)); do echo "nobody$i@bench.test"; done >"$TMP/lat-unknown.txt"
	stop_node node

	declare -A RPS=() P50=() P99=() BAD=()
	WRK_COMMAND="wrk -t$THREADS -c$CONNS -d$DURATION --latency -s bench/lua/forgot.lua $BASE/v1/password/forgot -- ADDRESSES"
	for ((round = 1; round <= ROUNDS; round++)); do
		if ((round % 2)); then order="live hang"; else order="hang live"; fi
		for smtp in $order; do
			start_node node "$PORT" "$TMP/$smtp.toml" "$SQLITE_URL"
			for who in known unknown; do
				out=$TMP/wrk-$smtp-$who-$round.txt
				log "round $round: forgot, SMTP $smtp, $who addresses"
				run_wrk "$out" "$DUR_S" -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s bench/lua/forgot.lua \
					"$BASE/v1/password/forgot" -- "$TMP/lat-$who.txt"
				read -r rps p50 p99 non2xx serr tmo _ _ < <(parse_wrk "$out")
				RPS[$smtp-$who]+="$rps "
				P50[$smtp-$who]+="$p50 "
				P99[$smtp-$who]+="$p99 "
				BAD[$smtp-$who]=$((${BAD[$smtp-$who]:-0} + non2xx + serr + tmo))
			done
			stop_node node
		done
	done
	stop_pid "${PIDS[tarpit]}" 2
	unset 'PIDS[tarpit]'
fi

# ---------------------------------------------------------------------------------------------
# 2. outbox drain after an SMTP outage: 1 node SQLite, 1 node PostgreSQL, 2 nodes PostgreSQL
# ---------------------------------------------------------------------------------------------

psql -q "$PG_URL" -c "CREATE DATABASE $DB_NAME" >/dev/null

# drain NAME DATABASE_URL NODES: fresh accounts, SMTP down, MAILS forgot requests spread over the
# nodes, SMTP up, time the drain. Sets DRAINED to "queue_ms first_to_last_ms duplicates received".
drain() {
	local label=$1 db=$2 nodes=$3 n i sink=$TMP/sink-$1 start end first last known
	for ((n = 0; n < nodes; n++)); do start_node "$label$n" $((PORT + n)) "$TMP/live.toml" "$db"; done
	make_accounts "$BASE" "$sink" "$label"
	stop_sink
	log "$label: $MAILS resets requested with SMTP down, over $nodes node(s)"
	mapfile -t known <"$TMP/$label-known.txt"
	for ((i = 0; i < MAILS; i++)); do echo "$((PORT + i % nodes)) ${known[i % ACCOUNTS]}"; done >"$TMP/$label-requests"
	start=$(now_ms)
	# Eight keep-alive clients, so the requests (and so the retries' due times) bunch up: the
	# drain then measures delivery, not the spread of the queueing.
	"$PYTHON" -c '
import http.client, json, sys, threading
lines = [l.split() for l in open(sys.argv[1]) if l.strip()]
codes, lock = [], threading.Lock()
def client(part):
    conns = {}
    for port, login in part:
        c = conns.get(port) or conns.setdefault(port, http.client.HTTPConnection("127.0.0.1", int(port), timeout=30))
        c.request("POST", "/v1/password/forgot", json.dumps({"login": login}), {"Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        with lock: codes.append(r.status)
threads = [threading.Thread(target=client, args=(lines[i::8],)) for i in range(8)]
[t.start() for t in threads]; [t.join() for t in threads]
print("\n".join(map(str, codes)))' "$TMP/$label-requests" >"$TMP/$label-codes"
	end=$(now_ms)
	[[ $(grep -c '^202$' "$TMP/$label-codes") == "$MAILS" ]] || die "$label: not every forgot answered 202: $(sort "$TMP/$label-codes" | uniq -c | tr '\n' ' ')"
	start_sink "$sink" "$SINK_PORT"
	log "$label: SMTP up; waiting for the retries (first retry 30 s after each failure)"
	wait_for_mails "$sink" "$MAILS" 300
	sleep 5 # duplicates would arrive now
	# One pass (a `sort | head` would die of SIGPIPE under pipefail).
	read -r first last < <(find "$sink" -name '*.json' -printf '%T@\n' |
		awk 'NR == 1 || $1 < min { min = $1 } NR == 1 || $1 > max { max = $1 } END { print min, max }')
	find "$sink" -name '*.json' -print0 | xargs -0 jq -r '.headers["message-id"]' | sort >"$TMP/$label-ids"
	local dups received
	dups=$(uniq -d "$TMP/$label-ids" | wc -l)
	received=$(wc -l <"$TMP/$label-ids")
	for ((n = 0; n < nodes; n++)); do stop_node "$label$n"; done
	DRAINED="$((end - start)) $(awk -v a="$first" -v b="$last" 'BEGIN { printf "%.0f", (b - a) * 1000 }') $dups $received"
}

stop_sink
start_sink "$TMP/sink-sq" "$SINK_PORT"
drain sq "sqlite://$TMP/drain.db" 1
read -r SQ_QUEUE SQ_DRAIN SQ_DUPS SQ_RECV <<<"$DRAINED"
stop_sink
start_sink "$TMP/sink-pg" "$SINK_PORT"
write_config "$TMP/live.toml" "$SINK_PORT" "redis_url = \"$REDIS_URL\""
drain pg "$PG_BENCH_URL" 1
read -r PG_QUEUE PG_DRAIN PG_DUPS PG_RECV <<<"$DRAINED"
stop_sink
psql -q "$PG_URL" -c "DROP DATABASE $DB_NAME" -c "CREATE DATABASE $DB_NAME" >/dev/null
start_sink "$TMP/sink-two" "$SINK_PORT"
drain two "$PG_BENCH_URL" 2
read -r TWO_QUEUE TWO_DRAIN TWO_DUPS TWO_RECV <<<"$DRAINED"
stop_sink

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

rate() { awk -v n="$1" -v ms="$2" 'BEGIN { if (ms <= 0) print "NA"; else printf "%.0f", (n - 1) * 1000 / ms }'; }
{
	echo "# Mail benchmark, $STAMP"
	echo
	echo "Command: \`HALLPASS_BIN=$HALLPASS_BIN ROUNDS=$ROUNDS DURATION=$DURATION CONNS=$CONNS ACCOUNTS=$ACCOUNTS MAILS=$MAILS bench/run-mail-bench.sh\`"
	echo "Binary: $BIN, repo at $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
	echo
	if ((ROUNDS > 0)); then
	echo "## POST /v1/password/forgot, SQLite, $ROUNDS rounds of $DURATION each, \`$WRK_COMMAND\`"
	echo
	echo "| SMTP | addresses | req/s (median) | p50 (median) | p99 (median) | p99 (worst round) | non-202 or errors |"
	echo "|---|---|---|---|---|---|---|"
	for smtp in live hang; do
		for who in known unknown; do
			k=$smtp-$who
			# shellcheck disable=SC2086
			worst=$(printf '%s\n' ${P99[$k]} | awk 'NR == 1 || $1 > max { max = $1 } END { print max }')
			# shellcheck disable=SC2086
			echo "| $([[ $smtp == live ]] && echo "working (aiosmtpd)" || echo "hanging (accepts, never greets)") | $who | $(fmt_rps "$(median ${RPS[$k]})") | $(fmt_ms "$(median ${P50[$k]})") | $(fmt_ms "$(median ${P99[$k]})") | $(fmt_ms "$worst") | ${BAD[$k]} |"
		done
	done
	echo
	echo "Per round (req/s, p99 ms): $(for k in "${!P99[@]}"; do printf '%s: %s/ %s; ' "$k" "${RPS[$k]}" "${P99[$k]}"; done)"
	echo
	fi
	echo "## Outbox drain after an SMTP outage, $MAILS resets for $ACCOUNTS accounts"
	echo
	echo "| store, nodes | requests queued in | first to last mail | mails/s | received | duplicates |"
	echo "|---|---|---|---|---|---|"
	echo "| SQLite, 1 node | $SQ_QUEUE ms | $SQ_DRAIN ms | $(rate "$SQ_RECV" "$SQ_DRAIN") | $SQ_RECV | $SQ_DUPS |"
	echo "| PostgreSQL, 1 node | $PG_QUEUE ms | $PG_DRAIN ms | $(rate "$PG_RECV" "$PG_DRAIN") | $PG_RECV | $PG_DUPS |"
	echo "| PostgreSQL, 2 nodes | $TWO_QUEUE ms | $TWO_DRAIN ms | $(rate "$TWO_RECV" "$TWO_DRAIN") | $TWO_RECV | $TWO_DUPS |"
} >"$REPORT"
cat "$REPORT"
log "report: $REPORT"
