#!/usr/bin/env bash
# Outage benchmark for a release hallpass binary on PostgreSQL: warm GET /v1/me latency (session
# cookie and Bearer token) with the database up, during an outage of a private PostgreSQL, and
# after it; what a login answers during the outage; and the time from the database's restart
# until login and /readyz answer 200 again. Needs root (initdb and pg_ctl run as postgres). See
# bench/README.md.
#
#   bench/run-outage-bench.sh                 run (settings from the environment, see below)
#   bench/run-outage-bench.sh --parse-wrk F   print what the parser reads from a saved wrk output
#   bench/run-outage-bench.sh --help
#
# Environment: HALLPASS_BIN (default target/release/hallpass), PORT (18080), PG_PORT (first free
# of 55432-55499), PG_BIN (/usr/lib/postgresql/15/bin), BASELINE (10s), OUTAGE (30s), CONNS (8),
# RECOVERY_LIMIT (60s), LOGIN_PROBES (5), TMP_BASE (${TMPDIR:-/var/tmp}).
set -euo pipefail
export LC_ALL=C # decimal points and sorting independent of the caller's locale

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
CALLER_DIR=$PWD
cd "$REPO_ROOT"

# shellcheck source=bench/lib.sh
. "$SCRIPT_DIR/lib.sh" # log, die, to_secs, parse_wrk, median, fmt_*, stop_pid, note_cmd

if [[ ${1:-} == --parse-wrk ]]; then
	[[ $# -eq 2 ]] || die "usage: $0 --parse-wrk WRK_OUTPUT_FILE"
	print_parsed_wrk "$2"
	exit 0
fi
if [[ ${1:-} == -h || ${1:-} == --help ]]; then
	sed -n '2,14p' "$SCRIPT_DIR/${BASH_SOURCE[0]##*/}" | sed 's/^# \{0,1\}//'
	exit 0
fi
[[ $# -eq 0 ]] || die "unexpected arguments: $* (settings come from the environment; see --help)"

# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------

HALLPASS_BIN=${HALLPASS_BIN:-target/release/hallpass}
PORT=${PORT:-18080}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
BASELINE=${BASELINE:-10s}
OUTAGE=${OUTAGE:-30s}
CONNS=${CONNS:-8}
RECOVERY_LIMIT=${RECOVERY_LIMIT:-60s}
LOGIN_PROBES=${LOGIN_PROBES:-5}
TMP_BASE=${TMP_BASE:-${TMPDIR:-/var/tmp}}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
now_ms() { date +%s%3N; }

if ! [[ $PORT =~ ^[0-9]+$ ]] || ((PORT < 1 || PORT > 65535)); then die "bad PORT '$PORT'"; fi
if [[ -z ${PG_PORT:-} ]]; then
	for ((p = 55432; p <= 55499; p++)); do
		port_in_use "$p" || {
			PG_PORT=$p
			break
		}
	done
	[[ -n ${PG_PORT:-} ]] || die "no free port in 55432-55499 for the private PostgreSQL; set PG_PORT"
fi
if ! [[ $PG_PORT =~ ^[0-9]+$ ]] || ((PG_PORT < 1024 || PG_PORT > 65535)); then die "bad PG_PORT '$PG_PORT'"; fi
((PG_PORT != 5432)) || die "PG_PORT 5432 is the shared PostgreSQL's; this script stops its database, so it needs a private one"
if ! [[ $CONNS =~ ^[0-9]+$ ]] || ((CONNS < 1)); then die "bad CONNS '$CONNS'"; fi
if ! [[ $LOGIN_PROBES =~ ^[0-9]+$ ]] || ((LOGIN_PROBES < 1 || LOGIN_PROBES > 50)); then die "bad LOGIN_PROBES '$LOGIN_PROBES'"; fi
BASE_S=$(to_secs "$BASELINE")
OUT_S=$(to_secs "$OUTAGE")
REC_S=$(to_secs "$RECOVERY_LIMIT")
((BASE_S >= 1 && OUT_S >= 5 && REC_S >= 5)) || die "BASELINE must be at least 1s, OUTAGE and RECOVERY_LIMIT at least 5s"
# The access token lives 15 minutes; all the Bearer runs must fit in it.
((2 * BASE_S + OUT_S + REC_S + 120 < 900)) || die "BASELINE, OUTAGE and RECOVERY_LIMIT together must fit in the 15-minute access token"

COMMAND_LINE="HALLPASS_BIN=$HALLPASS_BIN PORT=$PORT PG_PORT=$PG_PORT BASELINE=$BASELINE OUTAGE=$OUTAGE CONNS=$CONNS RECOVERY_LIMIT=$RECOVERY_LIMIT LOGIN_PROBES=$LOGIN_PROBES bench/run-outage-bench.sh"

HOST=127.0.0.1 # the only address this script ever talks to
BASE="http://$HOST:$PORT"
PASSWORD="violet anchor trombone seven"
USERNAME=bench
WRK_TIMEOUT=10s # wrk's per-request timeout: a slow answer is counted in the latency, not lost
WRK_SLACK_S=30  # `timeout` allowance above each wrk's own duration
PROBE_EVERY=0.25 # seconds between the cookie /v1/me timeline probes during the outage

[[ $(id -u) == 0 ]] || die "needs root: initdb and pg_ctl run as the postgres user (runuser)"
id postgres >/dev/null 2>&1 || die "no postgres user"
for tool in wrk curl timeout awk sort runuser; do
	command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y wrk curl)"
done
[[ -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl ]] || die "no initdb/pg_ctl in PG_BIN=$PG_BIN"
[[ -x $HALLPASS_BIN && -f $HALLPASS_BIN ]] || die "no executable at HALLPASS_BIN=$HALLPASS_BIN (build it with: cargo build --release)"
BIN=$(cd -- "$(dirname -- "$HALLPASS_BIN")" && pwd)/$(basename -- "$HALLPASS_BIN")
[[ $BIN == */release/* ]] || log "warning: $HALLPASS_BIN is not under a release/ directory; benchmark a release build"

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
STARTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
RESULTS_DIR=${RESULTS_DIR:-$SCRIPT_DIR/results}
[[ $RESULTS_DIR == /* ]] || RESULTS_DIR=$REPO_ROOT/$RESULTS_DIR
RESULT_MD="$RESULTS_DIR/outage-$STAMP.md"
RAW_DIR="$RESULTS_DIR/raw/outage-$STAMP" # git-ignored: raw wrk outputs, probes, logs
mkdir -p "$RAW_DIR"

# ---------------------------------------------------------------------------------------------
# Processes. Only the processes started here are ever signalled, by their PIDs; the private
# PostgreSQL is stopped through pg_ctl on its own data directory.
# ---------------------------------------------------------------------------------------------

TMP=""
PG_DATA=""
PG_STARTED=""  # set once initdb has made the cluster: the trap stops it
SERVER_PID=""
BG_PIDS=()     # wrk runs, probes, pollers, a background pg_ctl

pg_ctl() { # pg_ctl ARGS...: as postgres, on the private data directory
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" \
		-o "-p $PG_PORT -k $TMP/pg-socket -c listen_addresses=127.0.0.1" \
		-l "$TMP/postgres.log" "$@" >>"$TMP/pg_ctl.log" 2>&1
}

cleanup() {
	local rc=$? p
	set +e
	trap - EXIT INT TERM
	for p in "${BG_PIDS[@]+"${BG_PIDS[@]}"}"; do stop_pid "$p" 5; done
	if [[ -n $SERVER_PID ]]; then
		stop_pid "$SERVER_PID" 10
		log "server (pid $SERVER_PID) stopped"
	fi
	if [[ -n $PG_STARTED && -f $PG_DATA/postmaster.pid ]]; then
		if pg_ctl -m immediate -w -t 30 stop; then
			log "private PostgreSQL stopped"
		else
			log "warning: pg_ctl stop failed; see $RAW_DIR/pg_ctl.log"
		fi
	fi
	if [[ -n $TMP && -d $TMP ]]; then
		for f in server.log postgres.log pg_ctl.log initdb.log; do
			[[ -f $TMP/$f ]] && cp "$TMP/$f" "$RAW_DIR/$f"
		done
		if ((rc != 0)) && [[ -f $TMP/server.log ]]; then
			log "last lines of the server log ($RAW_DIR/server.log):"
			tail -n 40 "$TMP/server.log" >&2
		fi
		rm -rf -- "$TMP"
	fi
	rmdir "$RAW_DIR" 2>/dev/null # only if the run stopped before writing anything
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TMP=$(mktemp -d "$TMP_BASE/hallpass-outage-bench.XXXXXX")
chmod 711 "$TMP" # postgres must reach its data directory inside; the token files stay 600
PG_DATA="$TMP/pg"

port_rc=0
curl -s -o /dev/null --max-time 2 "$BASE/healthz" || port_rc=$?
((port_rc == 7)) || die "something already answers on $HOST:$PORT (curl rc $port_rc); set PORT to a free port"
port_in_use "$PG_PORT" && die "port $PG_PORT is in use; set PG_PORT to a free port"

# ---------------------------------------------------------------------------------------------
# Private PostgreSQL and the server
# ---------------------------------------------------------------------------------------------

install -d -o postgres -g postgres -m 700 "$PG_DATA" "$TMP/pg-socket"
install -o postgres -g postgres -m 600 /dev/null "$TMP/postgres.log"
install -o postgres -g postgres -m 600 /dev/null "$TMP/pg_ctl.log"
log "initdb $PG_DATA"
runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust --no-sync \
	>"$TMP/initdb.log" 2>&1 || die "initdb failed: $(tail -n 5 "$TMP/initdb.log")"
PG_STARTED=yes
pg_ctl -w -t 30 start || die "the private PostgreSQL did not start: $(tail -n 5 "$TMP/postgres.log")"
PG_VERSION=$("$PG_BIN/postgres" --version)
log "private PostgreSQL on $HOST:$PG_PORT"
DB_URL="postgres://postgres@$HOST:$PG_PORT/postgres"

cat >"$TMP/bench.toml" <<'EOF'
[rate_limit]
per_ip_per_minute = 0        # 0 disables the per-IP limit for the benchmark
account_failures_before_lockout = 0
EOF

SERVER_CMD_SHOWN="HALLPASS_DATABASE_URL=$DB_URL $HALLPASS_BIN serve --config \$TMP/bench.toml --listen $HOST:$PORT --public-url $BASE"
LOAD_START=$(uptime | sed 's/.*load average: //')
log "starting $HALLPASS_BIN on $BASE (database $DB_URL)"
(cd "$TMP" && exec env -u HALLPASS_BIN NO_COLOR=1 HALLPASS_DATABASE_URL="$DB_URL" "$BIN" serve \
	--config "$TMP/bench.toml" --listen "$HOST:$PORT" --public-url "$BASE") >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
deadline=$((SECONDS + 30))
while :; do
	alive "$SERVER_PID" || die "server exited during startup"
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$BASE/readyz" || true)
	[[ $code == 200 ]] && break
	((SECONDS < deadline)) || die "GET /readyz did not answer 200 within 30 s (last: ${code:-none})"
	sleep 0.2
done
log "server up (pid $SERVER_PID)"

post_json() { # post_json PATH JSON HEADERS_OUT BODY_OUT -> prints the status code
	curl -s --max-time 30 -o "$4" -D "$3" -w '%{http_code}' \
		-H 'Content-Type: application/json' -H 'Accept: application/json' \
		--data-binary "$2" "$BASE$1" || echo "curl-failed"
}
CREDS="{\"username\":\"$USERNAME\",\"password\":\"$PASSWORD\"}"

code=$(post_json /v1/signup "$CREDS" "$TMP/h" "$TMP/b")
[[ $code == 201 ]] || die "POST /v1/signup answered $code: $(head -c 500 "$TMP/b")"
code=$(post_json /v1/login "$CREDS" "$TMP/h" "$TMP/b")
[[ $code == 200 ]] || die "POST /v1/login answered $code: $(head -c 500 "$TMP/b")"
COOKIE=$(tr -d '\r' <"$TMP/h" | awk 'tolower($1) == "set-cookie:" && $2 ~ /^hallpass_session=/ { sub(/^[^:]*:[ \t]*/, ""); sub(/;.*/, ""); sub(/^hallpass_session=/, ""); print; exit }')
[[ -n $COOKIE ]] || die "POST /v1/login set no hallpass_session cookie"
(umask 077 && printf '%s' "$COOKIE" >"$TMP/cookie")
code=$(post_json /v1/token "{\"grant_type\":\"password\",\"username\":\"$USERNAME\",\"password\":\"$PASSWORD\"}" "$TMP/h" "$TMP/b")
[[ $code == 200 ]] || die "POST /v1/token (password grant) answered $code: $(head -c 500 "$TMP/b")"
ACCESS=$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' "$TMP/b")
[[ -n $ACCESS ]] || die "POST /v1/token: no access_token in the answer"
rm -f "$TMP/b" "$TMP/h" # the token answer holds a refresh token

COOKIE_H="Cookie: hallpass_session=$COOKIE"
BEARER_H="Authorization: Bearer $ACCESS"
for h in "$COOKIE_H" "$BEARER_H"; do
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "$h" "$BASE/v1/me" || echo curl-failed)
	[[ $code == 200 ]] || die "GET /v1/me answered $code with ${h%%:*}"
done
log "signed up, logged in (cookie) and got an access token; /v1/me answers 200 with both"

# ---------------------------------------------------------------------------------------------
# Load phases: cookie and Bearer wrk side by side, the same in every phase
# ---------------------------------------------------------------------------------------------

WRK_VERSION=$(wrk -v 2>&1 | head -n 1 | sed 's/ Copyright.*//' || true)
WARNINGS=()

# phase NAME SECONDS: both wrk runs at once, in the background; returns after starting them
phase_start() {
	local name=$1 secs=$2
	timeout -k 5 $((secs + WRK_SLACK_S)) wrk -t1 -c"$CONNS" -d"${secs}s" --timeout "$WRK_TIMEOUT" --latency \
		-H "$COOKIE_H" "$BASE/v1/me" >"$RAW_DIR/$name-cookie.txt" 2>&1 &
	BG_PIDS+=($!)
	P_COOKIE=$!
	timeout -k 5 $((secs + WRK_SLACK_S)) wrk -t1 -c"$CONNS" -d"${secs}s" --timeout "$WRK_TIMEOUT" --latency \
		-H "$BEARER_H" "$BASE/v1/me" >"$RAW_DIR/$name-bearer.txt" 2>&1 &
	BG_PIDS+=($!)
	P_BEARER=$!
}
forget() { # forget PID: it has been waited for; the trap no longer needs to stop it
	local keep=() p
	for p in "${BG_PIDS[@]+"${BG_PIDS[@]}"}"; do [[ $p == "$1" ]] || keep+=("$p"); done
	BG_PIDS=("${keep[@]+"${keep[@]}"}")
}
phase_wait() {
	local name=$1 rc=0
	wait "$P_COOKIE" || rc=$?
	forget "$P_COOKIE"
	((rc == 0)) || die "wrk ($name, cookie) exited with $rc: $(tail -n 5 "$RAW_DIR/$name-cookie.txt")"
	wait "$P_BEARER" || rc=$?
	forget "$P_BEARER"
	((rc == 0)) || die "wrk ($name, Bearer) exited with $rc: $(tail -n 5 "$RAW_DIR/$name-bearer.txt")"
}
WRK_SHOWN="wrk -t1 -c$CONNS -d<phase>s --timeout $WRK_TIMEOUT --latency -H 'Cookie: hallpass_session=hp_st_…' $BASE/v1/me"
WRK_SHOWN2="wrk -t1 -c$CONNS -d<phase>s --timeout $WRK_TIMEOUT --latency -H 'Authorization: Bearer eyJ…' $BASE/v1/me"

log "baseline: cookie and Bearer /v1/me for ${BASE_S}s, database up"
phase_start baseline "$BASE_S"
phase_wait baseline

# --- the outage ---
log "stopping the private PostgreSQL (pg_ctl stop -m fast)"
t_stop0=$(now_ms)
pg_ctl -w -t 30 -m fast stop || die "pg_ctl stop failed: $(tail -n 5 "$TMP/pg_ctl.log")"
t_down=$(now_ms)
log "PostgreSQL down (stop took $((t_down - t_stop0)) ms); load for ${OUT_S}s"

phase_start outage "$OUT_S"

# Cookie /v1/me timeline (one curl every PROBE_EVERY s): when, during the outage, slow answers come.
(
	end=$((t_down + OUT_S * 1000))
	while (($(now_ms) < end)); do
		t=$(($(now_ms) - t_down))
		r=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 -H "$COOKIE_H" "$BASE/v1/me" || echo "000 NA")
		echo "$t $r"
		sleep "$PROBE_EVERY"
	done
) >"$RAW_DIR/outage-cookie-timeline.txt" &
BG_PIDS+=($!)
TIMELINE_PID=$!

# Login probes spread over the outage: status, time, content type, problem code.
probe_gap_ms=$((OUT_S * 1000 / (LOGIN_PROBES + 1)))
: >"$RAW_DIR/outage-login-probes.txt"
for ((i = 1; i <= LOGIN_PROBES; i++)); do
	while (($(now_ms) < t_down + i * probe_gap_ms)); do sleep 0.1; done
	t=$(($(now_ms) - t_down))
	r=$(curl -s -o "$TMP/probe.b" -w '%{http_code} %{time_total} %{content_type}' --max-time 30 \
		-H 'Content-Type: application/json' -H 'Accept: application/json' --data-binary "$CREDS" "$BASE/v1/login" || echo "000 NA none")
	pcode=$(sed -n 's/.*"code":"\([^"]*\)".*/\1/p' "$TMP/probe.b" 2>/dev/null)
	echo "$t $r ${pcode:-none}" >>"$RAW_DIR/outage-login-probes.txt"
	log "  login probe $i at ${t} ms: $r ${pcode:-}"
done
# /readyz during the outage, once
READY_DURING=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 "$BASE/readyz" || echo "000 NA")

phase_wait outage
wait "$TIMELINE_PID" || true
forget "$TIMELINE_PID"

# --- recovery ---
log "starting the private PostgreSQL again"
t_start0=$(now_ms)
pg_ctl -w -t 30 start &
PGCTL_PID=$!
BG_PIDS=("$PGCTL_PID")
poll() { # poll NAME: until 200 or RECOVERY_LIMIT, every 100 ms; lines "ms_since_restart status seconds"
	local name=$1 end=$((t_start0 + REC_S * 1000)) t r
	while (($(now_ms) < end)); do
		t=$(($(now_ms) - t_start0))
		if [[ $name == login ]]; then
			r=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 -H 'Content-Type: application/json' \
				-H 'Accept: application/json' --data-binary "$CREDS" "$BASE/v1/login" || echo "000 NA")
		else
			r=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 "$BASE/readyz" || echo "000 NA")
		fi
		echo "$t $r"
		[[ $r == 200\ * ]] && return 0
		sleep 0.1
	done
}
poll login >"$RAW_DIR/recovery-login.txt" &
BG_PIDS+=($!)
POLL_LOGIN=$!
poll readyz >"$RAW_DIR/recovery-readyz.txt" &
BG_PIDS+=($!)
POLL_READY=$!
pgctl_rc=0
wait "$PGCTL_PID" || pgctl_rc=$?
t_up=$(now_ms)
((pgctl_rc == 0)) || die "pg_ctl start failed after the outage: $(tail -n 5 "$TMP/postgres.log")"
wait "$POLL_LOGIN" || true
wait "$POLL_READY" || true
BG_PIDS=() # pg_ctl and both pollers are done
OUTAGE_MS=$((t_start0 - t_down))
PG_UP_MS=$((t_up - t_start0))
first_ok() { awk '$2 == 200 { print $1 + int($3 * 1000); found = 1; exit } END { if (!found) print "NA" }' "$1"; }
LOGIN_OK_MS=$(first_ok "$RAW_DIR/recovery-login.txt")
READY_OK_MS=$(first_ok "$RAW_DIR/recovery-readyz.txt")
recovery_codes() { awk '{ c[$2]++ } END { for (k in c) printf "%s×%d ", k, c[k] }' "$1" | sed 's/ $//'; }
LOGIN_CODES=$(recovery_codes "$RAW_DIR/recovery-login.txt")
READY_CODES=$(recovery_codes "$RAW_DIR/recovery-readyz.txt")
[[ $LOGIN_OK_MS != NA ]] || WARNINGS+=("POST /v1/login did not answer 200 within ${REC_S}s of the restart")
[[ $READY_OK_MS != NA ]] || WARNINGS+=("/readyz did not answer 200 within ${REC_S}s of the restart")
log "PostgreSQL accepting after $PG_UP_MS ms; login 200 after $LOGIN_OK_MS ms; /readyz 200 after $READY_OK_MS ms"

log "after recovery: cookie and Bearer /v1/me for ${BASE_S}s"
phase_start after "$BASE_S"
phase_wait after
LOAD_END=$(uptime | sed 's/.*load average: //')

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

ROWS=()
for kind in cookie bearer; do
	for ph in baseline outage after; do
		f="$RAW_DIR/$ph-$kind.txt"
		read -r rps p50 p99 non2xx serr tmo reqs _ < <(parse_wrk "$f")
		max=$(awk '$1 == "Latency" && NF >= 4 { print $4; exit }' "$f")
		label=$([[ $kind == cookie ]] && echo "cookie" || echo "Bearer")
		ROWS+=("| $label | $ph | $(fmt_rps "$rps") | $(fmt_ms "$p50") | $(fmt_ms "$p99") | ${max:-NA} | $reqs | $non2xx | $serr / $tmo |")
		((non2xx == 0)) || WARNINGS+=("$label /v1/me, $ph: $non2xx answers with status ≥ 400")
		((serr + tmo == 0)) || WARNINGS+=("$label /v1/me, $ph: $serr socket errors, $tmo timeouts (wrk --timeout $WRK_TIMEOUT)")
	done
done

TL_N=$(grep -c . "$RAW_DIR/outage-cookie-timeline.txt" || true)
TL_NON200=$(awk '$2 != 200' "$RAW_DIR/outage-cookie-timeline.txt" | grep -c . || true)
TL_SLOW_N=$(awk '$3 != "NA" && $3 > 0.1' "$RAW_DIR/outage-cookie-timeline.txt" | grep -c . || true)
TL_SLOW=$(awk '$3 != "NA" && $3 > 0.1 { printf "%s%.1f s (%.0f ms)", (n++ ? ", " : ""), $1 / 1000, $3 * 1000 }' "$RAW_DIR/outage-cookie-timeline.txt")
TL_MAX=$(awk '$3 != "NA" && $3 > m { m = $3 } END { printf "%.1f ms\n", m * 1000 }' "$RAW_DIR/outage-cookie-timeline.txt")
((TL_NON200 == 0)) || WARNINGS+=("cookie /v1/me timeline probes: $TL_NON200 of $TL_N not 200 (see outage-cookie-timeline.txt)")

PROBE_ROWS=()
while read -r t code secs ctype pcode; do
	PROBE_ROWS+=("| $t ms | $code | $(awk -v s="$secs" 'BEGIN { if (s == "NA") print "NA"; else printf "%.0f ms\n", s * 1000 }') | $ctype | $pcode |")
	if [[ $code != 503 || $pcode != store_unavailable ]]; then
		WARNINGS+=("login probe at $t ms into the outage answered $code $pcode (expected 503 store_unavailable)")
	fi
	if [[ $secs != NA ]] && awk -v s="$secs" 'BEGIN { exit !(s > 2.5) }'; then
		WARNINGS+=("login probe at $t ms into the outage took $secs s (store_timeout is 2 s)")
	fi
done <"$RAW_DIR/outage-login-probes.txt"

LOG_WARN=$(grep -cE '(^| )(WARN|ERROR)( |$)' "$TMP/server.log" || true)
# Most frequent WARN/ERROR messages: timestamp, request id and trailing key=value fields dropped.
LOG_TOP=$(grep -E '(^| )(WARN|ERROR)( |$)' "$TMP/server.log" |
	sed -E 's/^[^ ]+ +//; s/ request_id=[^}]*//; s/^([A-Z]+ +request\{[^}]*\}: [^=]*) [a-z_]+=.*$/\1/; s/^([A-Z]+ +[^{=]*) [a-z_]+=.*$/\1/' |
	sort | uniq -c | sort -rn | head -n 10 || true)

CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
GIT_REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ $GIT_REV != unknown ]] && ! git diff --quiet HEAD -- 2>/dev/null; then GIT_REV+=" (working tree modified)"; fi
BIN_BUILT=$(date -u -r "$BIN" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo unknown)
BIN_SHA=$(sha256sum "$BIN" | cut -c1-16)
ms_or_na() { if [[ $1 == NA ]]; then echo NA; else echo "$1 ms"; fi; }

# shellcheck disable=SC2016 # the backquotes below are Markdown
report() {
	cat <<EOF
# hallpass outage benchmark (PostgreSQL stopped under warm /v1/me traffic), $STARTED_AT

- Command: \`$COMMAND_LINE\`
- Server: \`$SERVER_CMD_SHOWN\`, rate limits off in \`bench.toml\`; defaults otherwise
  (\`store_timeout\` 2 s, \`session_cache_ttl\` 5 s, \`store_outage_grace\` 5 min, no Redis)
- Database: a private $PG_VERSION on $HOST:$PG_PORT (initdb in a temp dir, trust auth), stopped with
  \`pg_ctl stop -m fast\` and started again with \`pg_ctl start\`
- Binary: \`$HALLPASS_BIN\` (built $BIN_BUILT, sha256 $BIN_SHA…), repo at $GIT_REV
- Machine: $(nproc) CPUs, $CPU_MODEL; $(uname -sr)
- Load average (1, 5, 15 min): start $LOAD_START; end $LOAD_END
- wrk: $WRK_VERSION; in every phase these two run at the same time:
  - \`$WRK_SHOWN\`
  - \`$WRK_SHOWN2\`

## GET /v1/me: database up, down, back

Phases: baseline ${BASE_S} s (database up), outage ${OUT_S} s (wrk started right after \`pg_ctl stop\` returned),
after ${BASE_S} s (once login answered 200 again). "non-2xx" is wrk's "Non-2xx or 3xx responses" (status ≥ 400);
max is wrk's largest latency.

| auth | phase | req/s | p50 | p99 | max | requests | non-2xx | socket errors / timeouts |
|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${ROWS[@]}")

Cookie /v1/me probed with curl every ${PROBE_EVERY} s through the outage: $TL_N probes, $TL_NON200 not 200,
slowest $TL_MAX; $TL_SLOW_N over 100 ms, sent at (time into the outage, and how long the answer took):
${TL_SLOW:-none}.

## What a login answers during the outage

\`POST /v1/login\` (right password) with curl at even intervals during the outage, under the load above.
/readyz during the outage: $READY_DURING (status, seconds).

| time into the outage | status | answered in | content type | problem code |
|---|---|---|---|---|
$(printf '%s\n' "${PROBE_ROWS[@]}")

## Recovery

Measured from the moment \`pg_ctl start\` was run (the database had been down $OUTAGE_MS ms). Login and /readyz
polled every 100 ms (curl, one at a time each); a time is when the first 200 answer arrived.

| | after the restart |
|---|---|
| PostgreSQL accepting (\`pg_ctl start -w\` returned) | $PG_UP_MS ms |
| first POST /v1/login 200 | **$(ms_or_na "$LOGIN_OK_MS")** (answers: $LOGIN_CODES) |
| first GET /readyz 200 | **$(ms_or_na "$READY_OK_MS")** (answers: $READY_CODES) |

Server log: $LOG_WARN WARN/ERROR lines over the run. Most frequent:

\`\`\`
${LOG_TOP:-(none)}
\`\`\`
EOF
	if ((${#WARNINGS[@]})); then
		printf '\n## Warnings\n\n'
		printf -- '- %s\n' "${WARNINGS[@]}"
	fi
	printf '\nRaw wrk outputs, probes, and the server and PostgreSQL logs: `%s/` (not committed).\n' "${RAW_DIR#"$REPO_ROOT"/}"
}

mkdir -p "$RESULTS_DIR"
report | tee "$RESULT_MD"
log "report written to ${RESULT_MD#"$REPO_ROOT"/}"
