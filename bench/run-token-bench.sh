#!/usr/bin/env bash
# Token benchmark for a release hallpass binary: Bearer GET /v1/me against GET /healthz (same run,
# alternating order; SQLite only), then refresh-token rotations per second with 1 and 64 clients,
# each client following its own chain, on SQLite and on PostgreSQL. See bench/README.md.
#
#   bench/run-token-bench.sh                 run (settings from the environment, see below)
#   bench/run-token-bench.sh --parse-wrk F   print what the parser reads from a saved wrk output
#   bench/run-token-bench.sh --help
#
# Environment: HALLPASS_BIN (default target/release/hallpass, relative to the repo root), PORT
# (18080), ROUNDS (3), DURATION (10s), WARMUP (3s), BACKENDS ("sqlite postgres"), PG_URL
# (postgres://root@127.0.0.1:5432/test), RESULTS_DIR (bench/results).
set -euo pipefail
export LC_ALL=C # decimal points and sorting independent of the caller's locale

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
CALLER_DIR=$PWD
cd "$REPO_ROOT"

# shellcheck source=bench/lib.sh
. "$SCRIPT_DIR/lib.sh" # log, die, to_secs, parse_wrk, median, fmt_*, stop_pid, note_cmd, run_wrk

# NOTOKEN / REPEAT / CHAINS lines printed by bench/lua/refresh-chain.lua -> "notoken repeats chains"
parse_chain_counts() {
	awk 'BEGIN { nt = "NA"; rp = "NA"; ch = "NA" }
		$1 == "NOTOKEN" { nt = $2 } $1 == "REPEAT" { rp = $2 } $1 == "CHAINS" { ch = $2 }
		END { print nt, rp, ch }' "$1"
}

if [[ ${1:-} == --parse-wrk ]]; then
	[[ $# -eq 2 ]] || die "usage: $0 --parse-wrk WRK_OUTPUT_FILE"
	print_parsed_wrk "$2"
	f=$2
	[[ $f == /* ]] || f=$CALLER_DIR/$f
	if grep -q '^CHAINS ' "$f"; then
		read -r nt rp ch < <(parse_chain_counts "$f")
		echo "chains $ch, 200 without a refresh_token $nt, repeated tokens $rp"
	fi
	exit 0
fi
if [[ ${1:-} == -h || ${1:-} == --help ]]; then
	sed -n '2,12p' "$SCRIPT_DIR/${BASH_SOURCE[0]##*/}" | sed 's/^# \{0,1\}//'
	exit 0
fi
[[ $# -eq 0 ]] || die "unexpected arguments: $* (settings come from the environment; see --help)"

# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------

HALLPASS_BIN=${HALLPASS_BIN:-target/release/hallpass}
PORT=${PORT:-18080}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
BACKENDS=${BACKENDS:-sqlite postgres}
PG_URL=${PG_URL:-postgres://root@127.0.0.1:5432/test}

if ! [[ $PORT =~ ^[0-9]+$ ]] || ((PORT < 1 || PORT > 65535)); then die "bad PORT '$PORT'"; fi
if ! [[ $ROUNDS =~ ^[0-9]+$ ]] || ((ROUNDS < 1)); then die "bad ROUNDS '$ROUNDS'"; fi
DUR_S=$(to_secs "$DURATION")
WARM_S=$(to_secs "$WARMUP")
((DUR_S >= 1)) || die "DURATION must be at least 1s"
read -r -a BACKEND_LIST <<<"$BACKENDS"
((${#BACKEND_LIST[@]})) || die "BACKENDS is empty (use sqlite, postgres or both)"
WANT_PG=no
for b in "${BACKEND_LIST[@]}"; do
	case $b in
	sqlite) ;;
	postgres) WANT_PG=yes ;;
	*) die "unknown backend '$b' in BACKENDS (use sqlite, postgres or both)" ;;
	esac
done
[[ $PG_URL == postgres://* || $PG_URL == postgresql://* ]] || die "PG_URL must start with postgres:// ($PG_URL)"
PG_URL_SHOWN=$(sed -E 's#^(postgres(ql)?://[^:/@]+):[^@/]*@#\1:***@#' <<<"$PG_URL") # hide a password

COMMAND_LINE="HALLPASS_BIN=$HALLPASS_BIN PORT=$PORT ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP BACKENDS='$BACKENDS'"
[[ $WANT_PG == no ]] || COMMAND_LINE+=" PG_URL=$PG_URL_SHOWN"
COMMAND_LINE+=" bench/run-token-bench.sh"

HOST=127.0.0.1 # the only address the server is asked to listen on and the load goes to
BASE="http://$HOST:$PORT"
USERNAME=bench
PASSWORD="violet anchor trombone seven"
CHAIN_LUA="$SCRIPT_DIR/lua/refresh-chain.lua"

# wrk shapes
MAIN_THREADS=2 MAIN_CONNS=64 # Bearer /v1/me vs /healthz
REFRESH_CLIENTS=(1 64)       # refresh runs: wrk -tN -cN, one connection (= one chain) per thread
GRANTS=65                    # password grants: chain 1 for the 1-client run, chains 2..65 for the 64-client run
WRK_SLACK_S=30               # `timeout` allowance above each wrk's own duration
TOKEN_MARGIN_S=30            # the access token must outlive the Bearer rounds by this much
PSQL_TIMEOUT_S=30

for tool in wrk curl jq timeout awk sort sha256sum; do
	command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y wrk curl jq)"
done
[[ $WANT_PG == no ]] || command -v psql >/dev/null || die "psql not found (apt-get install -y postgresql-client), or set BACKENDS=sqlite"
[[ -r $CHAIN_LUA ]] || die "missing $CHAIN_LUA"
[[ -x $HALLPASS_BIN && -f $HALLPASS_BIN ]] || die "no executable at HALLPASS_BIN=$HALLPASS_BIN (build it with: cargo build --release)"
BIN=$(cd -- "$(dirname -- "$HALLPASS_BIN")" && pwd)/$(basename -- "$HALLPASS_BIN")
[[ $BIN == */release/* ]] || log "warning: $HALLPASS_BIN is not under a release/ directory; benchmark a release build"

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
STARTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
RESULTS_DIR=${RESULTS_DIR:-$SCRIPT_DIR/results}
[[ $RESULTS_DIR == /* ]] || RESULTS_DIR=$REPO_ROOT/$RESULTS_DIR
RESULT_MD="$RESULTS_DIR/token-$STAMP.md"
RAW_DIR="$RESULTS_DIR/raw/token-$STAMP" # git-ignored: raw wrk outputs and the server logs
mkdir -p "$RAW_DIR"

# ---------------------------------------------------------------------------------------------
# Server lifecycle and the PostgreSQL schema. Only the processes started here are ever signalled,
# by their PIDs; only the schema created here is ever dropped.
# ---------------------------------------------------------------------------------------------

TMP=""
SERVER_PID=""
SERVER_LOG=""
WRK_PID=""
PG_SCHEMA="" # set while the schema exists

pg() { # pg SQL: run one statement against PG_URL, quietly, never prompting for a password
	PGOPTIONS='--client-min-messages=warning' PGCONNECT_TIMEOUT=10 \
		timeout -k 5 "$PSQL_TIMEOUT_S" psql -X -w -q -At -v ON_ERROR_STOP=1 -d "$PG_URL" -c "$1" </dev/null
}

drop_schema() {
	[[ -n $PG_SCHEMA ]] || return 0
	if pg "DROP SCHEMA IF EXISTS $PG_SCHEMA CASCADE"; then
		log "dropped PostgreSQL schema $PG_SCHEMA"
	else
		log "warning: could not drop PostgreSQL schema $PG_SCHEMA; drop it by hand: DROP SCHEMA $PG_SCHEMA CASCADE"
	fi
	PG_SCHEMA=""
}

stop_server() {
	[[ -n $SERVER_PID ]] || return 0
	stop_pid "$SERVER_PID" 10
	log "server (pid $SERVER_PID) stopped"
	SERVER_PID=""
	[[ -f $SERVER_LOG ]] && cp "$SERVER_LOG" "$RAW_DIR/${SERVER_LOG##*/}"
	return 0
}

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	[[ -n $WRK_PID ]] && stop_pid "$WRK_PID" 5
	if [[ -n $SERVER_PID ]]; then
		local log_file=$SERVER_LOG
		stop_server
		if ((rc != 0)) && [[ -f $log_file ]]; then
			log "last lines of the server log ($RAW_DIR/${log_file##*/}):"
			tail -n 40 "$log_file" >&2
		fi
	fi
	drop_schema
	[[ -n $TMP && -d $TMP ]] && rm -rf -- "$TMP"
	rmdir "$RAW_DIR" 2>/dev/null # only if the run stopped before writing anything
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hallpass-token-bench.XXXXXX")
chmod 700 "$TMP" # it holds live tokens

cat >"$TMP/bench.toml" <<'EOF'
[rate_limit]
per_ip_per_minute = 0        # 0 disables the per-IP limit for the benchmark
account_failures_before_lockout = 0
EOF

refuse_busy_port() { # something else answering on the port would be benchmarked instead
	local port_rc=0
	curl -s -o /dev/null --max-time 2 "$BASE/healthz" || port_rc=$?
	((port_rc == 7)) || die "something already answers on $HOST:$PORT (curl rc $port_rc); set PORT to a free port"
}
refuse_busy_port

if [[ $WANT_PG == yes ]]; then
	PG_VERSION=$(pg 'SHOW server_version') || die "cannot connect to PostgreSQL at $PG_URL_SHOWN (set PG_URL, or BACKENDS=sqlite)"
fi

# start_server BACKEND: fresh database (SQLite file or PostgreSQL schema), server in $TMP/BACKEND,
# waits for /healthz. Sets SERVER_PID, SERVER_LOG, SERVER_CMD_SHOWN[BACKEND].
declare -A SERVER_CMD_SHOWN=()
start_server() {
	local backend=$1 dir=$TMP/$1 db_url shown code deadline
	mkdir -p "$dir"
	case $backend in
	sqlite)
		db_url="sqlite://$dir/hallpass.db"
		shown="sqlite://\$TMP/sqlite/hallpass.db"
		;;
	postgres)
		PG_SCHEMA=hp_bench_$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
		pg "CREATE SCHEMA $PG_SCHEMA" >/dev/null || {
			PG_SCHEMA=""
			die "could not create a PostgreSQL schema at $PG_URL_SHOWN"
		}
		log "created PostgreSQL schema $PG_SCHEMA"
		local sep='?'
		[[ $PG_URL != *\?* ]] || sep='&'
		db_url="$PG_URL${sep}options=-c%20search_path%3D$PG_SCHEMA"
		shown="'$PG_URL_SHOWN${sep}options=-c%20search_path%3Dhp_bench_<random>'"
		;;
	esac
	SERVER_CMD_SHOWN[$backend]="$HALLPASS_BIN serve --config \$TMP/bench.toml --listen $HOST:$PORT --public-url $BASE --database-url $shown"
	refuse_busy_port
	SERVER_LOG=$TMP/server-$backend.log
	log "starting $HALLPASS_BIN ($backend) in $dir on $BASE"
	# HALLPASS_BIN is the script's setting, not the server's (which warns about unknown HALLPASS_* names).
	(cd "$dir" && exec env -u HALLPASS_BIN "$BIN" serve --config "$TMP/bench.toml" --listen "$HOST:$PORT" \
		--public-url "$BASE" --database-url "$db_url") >"$SERVER_LOG" 2>&1 &
	SERVER_PID=$!
	deadline=$((SECONDS + 30))
	while :; do
		alive "$SERVER_PID" || die "server exited during startup"
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$BASE/healthz" || true)
		[[ $code == 200 ]] && break
		((SECONDS < deadline)) || die "GET /healthz did not answer 200 within 30 s (last: ${code:-none})"
		sleep 0.2
	done
	log "server up (pid $SERVER_PID)"
}

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { sed 's/^.*) //' "/proc/$SERVER_PID/stat" | awk '{ print $12 + $13 }'; } # utime + stime
# utime + stime of every visible process named postgres (the local PostgreSQL server); NA if none.
# Approximate: a backend process that exits during a run takes its ticks with it.
pg_cpu_ticks() {
	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } |
		awk '$2 == "(postgres)" { n++; s += $14 + $15 } END { if (n) print s; else print "NA" }'
}
per_op_us() { # per_op_us TICKS_DELTA COUNT -> µs per operation
	awk -v d="$1" -v hz="$CLK_TCK" -v n="$2" \
		'BEGIN { if (d == "NA" || n == "NA" || n == 0) print "NA"; else printf "%.1f\n", d / hz * 1e6 / n }'
}
fmt_us() { if [[ $1 == NA || $1 == "—" ]]; then echo "$1"; else echo "$1 µs"; fi; }

LOAD_START=$(uptime | sed 's/.*load average: //')

# ---------------------------------------------------------------------------------------------
# Users and tokens
# ---------------------------------------------------------------------------------------------

post_json() { # post_json PATH JSON BODY_OUT -> prints the status code
	curl -s --max-time 30 -o "$3" -w '%{http_code}' \
		-H 'Content-Type: application/json' -H 'Accept: application/json' \
		--data-binary "$2" "$BASE$1" || echo "curl-failed"
}

# get_tokens BACKEND: signs up $USERNAME, then makes GRANTS password grants (one session each).
# Writes $TMP/BACKEND/rt-1.txt (1 refresh token) and rt-64.txt (the next 64), sets ACCESS_TOKEN
# (from the first grant), ACCESS_EXPIRES_AT (epoch seconds) and GRANT_SECONDS.
get_tokens() {
	local backend=$1 dir=$TMP/$1 code i t0 issued
	code=$(post_json /v1/signup "{\"username\":\"$USERNAME\",\"password\":\"$PASSWORD\"}" "$dir/b")
	[[ $code == 201 ]] || die "POST /v1/signup $USERNAME answered $code: $(head -c 500 "$dir/b" 2>/dev/null)"
	log "signed up $USERNAME; $GRANTS password grants (POST /v1/token, argon2 each)"
	: >"$dir/rt-all.txt"
	t0=$(date +%s.%N)
	for ((i = 1; i <= GRANTS; i++)); do
		((i > 1)) || issued=$(date +%s)
		code=$(post_json /v1/token "{\"grant_type\":\"password\",\"username\":\"$USERNAME\",\"password\":\"$PASSWORD\"}" "$dir/b")
		[[ $code == 200 ]] || die "POST /v1/token (password grant $i) answered $code: $(head -c 500 "$dir/b" 2>/dev/null)"
		jq -e '(.access_token | type == "string" and length > 0) and (.token_type | ascii_downcase == "bearer")
			and (.expires_in | type == "number" and . > 0)
			and (.refresh_token | type == "string" and test("^hp_rt_[A-Za-z0-9_-]+$"))' "$dir/b" >/dev/null ||
			die "POST /v1/token (password grant $i): unexpected body: $(jq -c '{token_type, expires_in, access_token: (.access_token | type), refresh_token: (.refresh_token | type)}' "$dir/b" 2>/dev/null || head -c 300 "$dir/b")"
		jq -r .refresh_token "$dir/b" >>"$dir/rt-all.txt"
		if ((i == 1)); then
			ACCESS_TOKEN=$(jq -r .access_token "$dir/b")
			ACCESS_EXPIRES_AT=$((issued + $(jq -r '.expires_in | floor' "$dir/b")))
		fi
	done
	GRANT_SECONDS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f\n", b - a }')
	rm -f "$dir/b"
	[[ $(sort -u "$dir/rt-all.txt" | wc -l) -eq $GRANTS ]] || die "the $GRANTS password grants did not give $GRANTS distinct refresh tokens"
	head -n 1 "$dir/rt-all.txt" >"$dir/rt-1.txt"
	local many=${REFRESH_CLIENTS[1]}
	sed -n "2,$((1 + many))p" "$dir/rt-all.txt" >"$dir/rt-$many.txt"
	log "  $GRANTS grants in ${GRANT_SECONDS}s"
}

# ---------------------------------------------------------------------------------------------
# wrk runs
# ---------------------------------------------------------------------------------------------

WRK_VERSION=$(wrk -v 2>&1 | head -n 1 | sed 's/ Copyright.*//' || true)
WRK_COMMANDS=() # distinct command shapes for the report (tokens redacted)
WARNINGS=()
BEARER_ROWS=() REFRESH_ROWS=()
RATIO_MEDIAN=NA
declare -A REFRESH_RATE=() # "backend clients" -> refreshes/s (200 only)

label() { if [[ $1 == me ]]; then echo "/v1/me (Bearer)"; else echo /healthz; fi; }

# bench_endpoint BACKEND NAME ROUND -> sets R_rps R_p50 R_p99 R_non2xx R_serr R_tmo R_reqs R_cpu_us
bench_endpoint() {
	local backend=$1 name=$2 round=$3 url args=() shown t0 t1 raw
	case $name in
	healthz)
		url="$BASE/healthz"
		shown="wrk -t$MAIN_THREADS -c$MAIN_CONNS -d${DUR_S}s --latency $url"
		;;
	me)
		url="$BASE/v1/me"
		args=(-H "Authorization: Bearer $ACCESS_TOKEN")
		shown="wrk -t$MAIN_THREADS -c$MAIN_CONNS -d${DUR_S}s --latency -H 'Authorization: Bearer eyJ…' $url"
		;;
	esac
	((WARM_S == 0)) || shown+="   (after a ${WARM_S}s warm-up run of the same, discarded)"
	note_cmd "$shown"
	raw="$RAW_DIR/$backend-r$round-$name"
	if ((WARM_S > 0)); then
		log "$backend round $round: $name warm-up ${WARM_S}s"
		run_wrk "$raw-warmup.txt" "$WARM_S" \
			-t"$MAIN_THREADS" -c"$MAIN_CONNS" -d"${WARM_S}s" --latency "${args[@]+"${args[@]}"}" "$url"
	fi
	log "$backend round $round: $name ${DUR_S}s"
	t0=$(cpu_ticks)
	run_wrk "$raw.txt" "$DUR_S" \
		-t"$MAIN_THREADS" -c"$MAIN_CONNS" -d"${DUR_S}s" --latency "${args[@]+"${args[@]}"}" "$url"
	t1=$(cpu_ticks)
	read -r R_rps R_p50 R_p99 R_non2xx R_serr R_tmo R_reqs _ < <(parse_wrk "$raw.txt")
	R_cpu_us=$(per_op_us $((t1 - t0)) "$R_reqs")
	log "  $name: $(fmt_rps "$R_rps") req/s, p50 $(fmt_ms "$R_p50"), p99 $(fmt_ms "$R_p99"), non-2xx $R_non2xx"
}

# Bearer GET /v1/me vs GET /healthz: ROUNDS rounds, order alternating, one table.
bearer_section() {
	local backend=$1 round name order rps_me rps_hz ratio left need
	local -a hz_rps=() me_rps=() hz_p50=() me_p50=() hz_p99=() me_p99=() hz_cpu=() me_cpu=() ratios=()
	need=$((ROUNDS * 2 * (WARM_S + DUR_S) + TOKEN_MARGIN_S))
	left=$((ACCESS_EXPIRES_AT - $(date +%s)))
	((need <= left)) || die "the Bearer rounds need ~${need}s but the access token expires in ${left}s; lower ROUNDS, DURATION or WARMUP"
	local code
	code=$(curl -s --max-time 10 -o "$TMP/me.b" -w '%{http_code}' -H "Authorization: Bearer $ACCESS_TOKEN" "$BASE/v1/me" || echo curl-failed)
	[[ $code == 200 ]] || die "GET /v1/me with the access token answered $code: $(head -c 500 "$TMP/me.b")"
	log "GET /v1/me with the access token answers 200; token valid for another ${left}s"
	for ((round = 1; round <= ROUNDS; round++)); do
		if ((round % 2)); then order=(healthz me); else order=(me healthz); fi
		for name in "${order[@]}"; do
			bench_endpoint "$backend" "$name" "$round"
			if [[ $name == me ]]; then
				rps_me=$R_rps
				me_rps+=("$R_rps") me_p50+=("$R_p50") me_p99+=("$R_p99") me_cpu+=("$R_cpu_us")
			else
				rps_hz=$R_rps
				hz_rps+=("$R_rps") hz_p50+=("$R_p50") hz_p99+=("$R_p99") hz_cpu+=("$R_cpu_us")
			fi
			if [[ $name == "${order[1]}" ]]; then ratio=$(fmt_ratio "$rps_me" "$rps_hz"); else ratio=""; fi
			BEARER_ROWS+=("| $round | $backend | $(label "$name") | $(fmt_rps "$R_rps") | $(fmt_ms "$R_p50") | $(fmt_ms "$R_p99") | $R_non2xx | $R_serr / $R_tmo | $(fmt_us "$R_cpu_us") | $ratio |")
			((R_non2xx == 0)) || WARNINGS+=("$backend round $round $(label "$name"): $R_non2xx responses with status ≥ 400")
			((R_serr + R_tmo == 0)) || WARNINGS+=("$backend round $round $(label "$name"): $R_serr socket errors, $R_tmo timeouts")
		done
		ratios+=("$(fmt_ratio "$rps_me" "$rps_hz")")
	done
	RATIO_MEDIAN=$(median "${ratios[@]}")
	[[ $RATIO_MEDIAN == NA ]] || RATIO_MEDIAN=$(printf '%.2f' "$RATIO_MEDIAN")
	local m
	m=$(median "${hz_cpu[@]}")
	BEARER_ROWS+=("| **median** | $backend | /healthz | $(fmt_rps "$(median "${hz_rps[@]}")") | $(fmt_ms "$(median "${hz_p50[@]}")") | $(fmt_ms "$(median "${hz_p99[@]}")") | | | $(fmt_us "$m") | |")
	m=$(median "${me_cpu[@]}")
	BEARER_ROWS+=("| **median** | $backend | $(label me) | $(fmt_rps "$(median "${me_rps[@]}")") | $(fmt_ms "$(median "${me_p50[@]}")") | $(fmt_ms "$(median "${me_p99[@]}")") | | | $(fmt_us "$m") | **$RATIO_MEDIAN** |")
}

# refresh_run BACKEND CLIENTS: wrk -tN -cN with refresh-chain.lua on the chains in rt-N.txt.
refresh_run() {
	local backend=$1 n=$2 file=$TMP/$1/rt-$2.txt raw=$RAW_DIR/$1-refresh-c$2.txt
	local t0 t1 p0 p1 p50 p99 serr tmo elapsed nt rp ch c k total=0 n200=0 other=""
	[[ $(wc -l <"$file") -ge $n ]] || die "$file has fewer than $n refresh tokens"
	note_cmd "wrk -t$n -c$n -d${DUR_S}s --latency -s bench/lua/refresh-chain.lua $BASE/v1/token -- \$TMP/<backend>/rt-$n.txt   ($n refresh token(s), one chain per connection)"
	log "$backend: refresh chains, $n client(s), ${DUR_S}s"
	t0=$(cpu_ticks)
	p0=NA
	[[ $backend != postgres ]] || p0=$(pg_cpu_ticks)
	run_wrk "$raw" "$DUR_S" -t"$n" -c"$n" -d"${DUR_S}s" --latency -s "$CHAIN_LUA" "$BASE/v1/token" -- "$file"
	t1=$(cpu_ticks)
	p1=NA
	[[ $backend != postgres ]] || p1=$(pg_cpu_ticks)
	read -r _ p50 p99 _ serr tmo _ elapsed < <(parse_wrk "$raw")
	read -r nt rp ch < <(parse_chain_counts "$raw")
	while read -r c k; do
		[[ -n $c ]] || continue
		total=$((total + k))
		if [[ $c == 200 ]]; then n200=$k; else other+="${other:+, }$c: $k"; fi
	done < <(parse_status_counts "$raw")
	local rate cpu pgcpu pgd=NA
	rate=$(awk -v n="$n200" -v ms="$elapsed" 'BEGIN { if (ms == "NA" || ms == 0) print "NA"; else print n / (ms / 1000) }')
	REFRESH_RATE["$backend $n"]=$rate
	cpu=$(per_op_us $((t1 - t0)) "$n200")
	[[ $p0 == NA || $p1 == NA ]] || pgd=$((p1 - p0))
	pgcpu=$(per_op_us "$pgd" "$n200")
	[[ $backend == postgres ]] || pgcpu="—"
	REFRESH_ROWS+=("| $backend | $n | $(fmt_rps "$rate") | $(fmt_ms "$p50") | $(fmt_ms "$p99") | $n200 | $((total - n200))${other:+ ($other)} | $nt / $rp | $serr / $tmo | $(fmt_us "$cpu") | $(fmt_us "$pgcpu") |")
	log "  $(fmt_rps "$rate") refreshes/s, p50 $(fmt_ms "$p50"), p99 $(fmt_ms "$p99"), 200: $n200, other: ${other:-0}"
	((total > 0)) || WARNINGS+=("$backend, $n client(s): no refresh answered at all")
	((total == n200)) || WARNINGS+=("$backend, $n client(s): $((total - n200)) refreshes did not answer 200 ($other); every chain is followed, so all should")
	[[ $nt == 0 && $rp == 0 ]] || WARNINGS+=("$backend, $n client(s): $nt answers 200 without a refresh_token the Lua could read, $rp replays (token received twice): a chain was broken")
	[[ $ch == "$n" ]] || WARNINGS+=("$backend, $n client(s): refresh-chain.lua reported $ch chains, expected $n")
	((serr + tmo == 0)) || WARNINGS+=("$backend, $n client(s): $serr socket errors, $tmo timeouts")
	return 0
}

# ---------------------------------------------------------------------------------------------
# The runs
# ---------------------------------------------------------------------------------------------

BEARER_DONE=no
for backend in "${BACKEND_LIST[@]}"; do
	start_server "$backend"
	get_tokens "$backend"
	if [[ $backend == sqlite && $BEARER_DONE == no ]]; then
		bearer_section "$backend"
		BEARER_DONE=yes
	fi
	for n in "${REFRESH_CLIENTS[@]}"; do refresh_run "$backend" "$n"; done
	stop_server
	drop_schema
done
LOAD_END=$(uptime | sed 's/.*load average: //')

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
GIT_REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ $GIT_REV != unknown ]] && ! git diff --quiet HEAD -- 2>/dev/null; then GIT_REV+=" (working tree modified)"; fi
BIN_BUILT=$(date -u -r "$BIN" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo unknown)
BIN_SHA=$(sha256sum "$BIN" | cut -c1-16)

verdict() { # verdict VALUE TARGET -> met / NOT met / not measured
	awk -v v="$1" -v t="$2" 'BEGIN { if (v == "NA" || v == "") print "not measured"; else if (v + 0 >= t + 0) print "**met**"; else print "**NOT met**" }'
}
if [[ $BEARER_DONE == yes ]]; then
	TARGET_BEARER="Target: Bearer /v1/me ≥ 0.7 × /healthz req/s. Median ratio $RATIO_MEDIAN: $(verdict "$RATIO_MEDIAN" 0.7)."
else
	TARGET_BEARER="Not measured: this section runs on the sqlite backend only (BACKENDS='$BACKENDS')."
fi
PG_RATE=${REFRESH_RATE["postgres ${REFRESH_CLIENTS[1]}"]:-NA}
if [[ $WANT_PG == yes ]]; then
	TARGET_REFRESH="Target: ≥ 1,000 refreshes/s on PostgreSQL. ${REFRESH_CLIENTS[1]} clients: $(fmt_rps "$PG_RATE")/s: $(verdict "$PG_RATE" 1000)."
else
	TARGET_REFRESH="Target: ≥ 1,000 refreshes/s on PostgreSQL: not measured (BACKENDS='$BACKENDS')."
fi

# shellcheck disable=SC2016 # the backquotes below are Markdown
report() {
	cat <<EOF
# hallpass token benchmark, $STARTED_AT

- Command: \`$COMMAND_LINE\`
- Server, one per backend, each in a fresh temp dir with a fresh database:
$(for b in "${BACKEND_LIST[@]}"; do printf '  - %s: `%s`\n' "$b" "${SERVER_CMD_SHOWN[$b]}"; done)
  with \`bench.toml\` turning the per-IP rate limit and the account lockout off
  (\`[rate_limit] per_ip_per_minute = 0\`, \`account_failures_before_lockout = 0\`).$([[ $WANT_PG == no ]] || printf '\n  PostgreSQL %s; the schema is created with `CREATE SCHEMA hp_bench_<random>` and dropped at the end.' "$PG_VERSION")
- Tokens: user \`$USERNAME\` signed up, then $GRANTS password grants (\`POST /v1/token\`, one session each) per backend:
  the first grant's access token for the Bearer runs, its refresh token for the 1-client chain, the
  next ${REFRESH_CLIENTS[1]} refresh tokens for the ${REFRESH_CLIENTS[1]}-client chains.
- Binary: \`$HALLPASS_BIN\` (built $BIN_BUILT, sha256 $BIN_SHA…), repo at $GIT_REV
- Machine: $(nproc) CPUs, $CPU_MODEL; $(uname -sr)
- Load average (1, 5, 15 min): start $LOAD_START; end $LOAD_END
- wrk: $WRK_VERSION
- wrk commands:
$(for c in "${WRK_COMMANDS[@]}"; do printf '  - `%s`\n' "$c"; done)

## Bearer GET /v1/me vs GET /healthz
EOF
	if [[ $BEARER_DONE == yes ]]; then
		cat <<EOF

wrk -t$MAIN_THREADS -c$MAIN_CONNS, $( ((WARM_S > 0)) && echo "${WARM_S} s warm-up (discarded) then" || echo "no warm-up,") ${DUR_S} s measured, per endpoint; the order alternates by round.
SQLite only: verifying a Bearer token makes no database call, so the code path is the same on both backends.
"non-2xx" is wrk's "Non-2xx or 3xx responses" (status ≥ 400). Server CPU/req = server utime+stime during the measured run / requests.

| round | backend | endpoint | req/s | p50 | p99 | non-2xx | socket errors / timeouts | server CPU/req | /v1/me ÷ /healthz |
|---|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${BEARER_ROWS[@]}")
EOF
	fi
	cat <<EOF

$TARGET_BEARER

## Refresh-token rotation: POST /v1/token, grant_type=refresh_token

\`wrk -tN -cN\` for ${DUR_S} s, no warm-up, one connection per thread, each following its own refresh-token chain
([\`lua/refresh-chain.lua\`](../lua/refresh-chain.lua): every answer's \`refresh_token\` is presented next). The 1-client run comes first, on its own chain.
Refreshes/s counts 200 answers only. "no token / replays": 200 answers without a readable \`refresh_token\`, and
tokens a client received twice (the server answering a replay instead of rotating): both must be 0.
CPU/refresh = utime+stime during the run / 200 answers, for the server and, on PostgreSQL, for all local \`postgres\`
processes (approximate: a backend that exits during the run takes its ticks with it).

| backend | clients | refreshes/s | p50 | p99 | 200 | non-200 | no token / replays | socket errors / timeouts | server CPU/refresh | PostgreSQL CPU/refresh |
|---|---|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${REFRESH_ROWS[@]}")

$TARGET_REFRESH
EOF
	if ((${#WARNINGS[@]})); then
		printf '\n## Warnings\n\n'
		printf -- '- %s\n' "${WARNINGS[@]}"
	fi
	printf '\nRaw wrk outputs and the server logs: `%s/` (not committed).\n' "${RAW_DIR#"$REPO_ROOT"/}"
}

mkdir -p "$RESULTS_DIR"
report | tee "$RESULT_MD"
log "report written to ${RESULT_MD#"$REPO_ROOT"/}"
log "${TARGET_BEARER//\*\*/}"
log "${TARGET_REFRESH//\*\*/}"
