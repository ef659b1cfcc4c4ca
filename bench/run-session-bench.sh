#!/usr/bin/env bash
# Session benchmark for a release hallpass binary: cookie-authenticated GET /v1/me against
# GET /healthz (same run, alternating order), then /v1/me latency alone and during a login storm,
# with the server's memory. See bench/README.md.
#
#   bench/run-session-bench.sh                 run (settings from the environment, see below)
#   bench/run-session-bench.sh --parse-wrk F   print what the parser reads from a saved wrk output
#   bench/run-session-bench.sh --help
#
# Environment: HALLPASS_BIN (default target/release/hallpass, relative to the repo root), PORT
# (18080), ROUNDS (3), DURATION (10s), WARMUP (3s), STORM_USERS (32), RESULTS_DIR (bench/results).
set -euo pipefail
export LC_ALL=C # decimal points and sorting independent of the caller's locale

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
CALLER_DIR=$PWD
cd "$REPO_ROOT"

# shellcheck source=bench/lib.sh
. "$SCRIPT_DIR/lib.sh" # log, die, to_secs, parse_wrk, median, fmt_*, stop_pid, note_cmd, run_wrk

if [[ ${1:-} == --parse-wrk ]]; then
	[[ $# -eq 2 ]] || die "usage: $0 --parse-wrk WRK_OUTPUT_FILE"
	print_parsed_wrk "$2"
	exit 0
fi
if [[ ${1:-} == -h || ${1:-} == --help ]]; then
	sed -n '2,11p' "$SCRIPT_DIR/${BASH_SOURCE[0]##*/}" | sed 's/^# \{0,1\}//'
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
STORM_USERS=${STORM_USERS:-32}

if ! [[ $PORT =~ ^[0-9]+$ ]] || ((PORT < 1 || PORT > 65535)); then die "bad PORT '$PORT'"; fi
if ! [[ $ROUNDS =~ ^[0-9]+$ ]] || ((ROUNDS < 1)); then die "bad ROUNDS '$ROUNDS'"; fi
if ! [[ $STORM_USERS =~ ^[0-9]+$ ]] || ((STORM_USERS < 1)); then die "bad STORM_USERS '$STORM_USERS'"; fi
DUR_S=$(to_secs "$DURATION")
WARM_S=$(to_secs "$WARMUP")
((DUR_S >= 1)) || die "DURATION must be at least 1s"

COMMAND_LINE="HALLPASS_BIN=$HALLPASS_BIN PORT=$PORT ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP STORM_USERS=$STORM_USERS bench/run-session-bench.sh"

HOST=127.0.0.1 # the only address this script ever talks to
BASE="http://$HOST:$PORT"
PASSWORD="violet anchor trombone seven"
LOGIN_LUA="$SCRIPT_DIR/lua/login-storm.lua"

# wrk shapes
MAIN_THREADS=2 MAIN_CONNS=64
ME_THREADS=1 ME_CONNS=4
STORM_THREADS=1 STORM_CONNS=32
STORM_LEAD_S=1            # the storm starts this long before the /v1/me measurement, ends this long after
STORM_WRK_TIMEOUT=10s     # per-request timeout of the login wrk (wrk's default 2 s would count queued logins as errors)
WRK_SLACK_S=30            # `timeout` allowance above each wrk's own duration

for tool in wrk curl timeout awk sort; do
	command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y wrk curl)"
done
[[ -r $LOGIN_LUA ]] || die "missing $LOGIN_LUA"
[[ -x $HALLPASS_BIN && -f $HALLPASS_BIN ]] || die "no executable at HALLPASS_BIN=$HALLPASS_BIN (build it with: cargo build --release)"
BIN=$(cd -- "$(dirname -- "$HALLPASS_BIN")" && pwd)/$(basename -- "$HALLPASS_BIN")
[[ $BIN == */release/* ]] || log "warning: $HALLPASS_BIN is not under a release/ directory; benchmark a release build"

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
STARTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
RESULTS_DIR=${RESULTS_DIR:-$SCRIPT_DIR/results}
[[ $RESULTS_DIR == /* ]] || RESULTS_DIR=$REPO_ROOT/$RESULTS_DIR
RESULT_MD="$RESULTS_DIR/session-$STAMP.md"
RAW_DIR="$RESULTS_DIR/raw/session-$STAMP" # git-ignored: raw wrk outputs and the server log
mkdir -p "$RAW_DIR"

# ---------------------------------------------------------------------------------------------
# Server lifecycle. Only the processes started here are ever signalled, by their PIDs.
# ---------------------------------------------------------------------------------------------

TMP=""
SERVER_PID=""
STORM_PID=""
WRK_PID=""
SAMPLER_PID=""

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	[[ -n $TMP ]] && rm -f "$TMP/sampling"
	[[ -n $SAMPLER_PID ]] && stop_pid "$SAMPLER_PID" 2
	[[ -n $WRK_PID ]] && stop_pid "$WRK_PID" 5
	[[ -n $STORM_PID ]] && stop_pid "$STORM_PID" 5
	if [[ -n $SERVER_PID ]]; then
		stop_pid "$SERVER_PID" 10
		log "server (pid $SERVER_PID) stopped"
	fi
	if [[ -n $TMP && -d $TMP ]]; then
		[[ -f $TMP/server.log ]] && cp "$TMP/server.log" "$RAW_DIR/server.log"
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

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hallpass-bench.XXXXXX")

# Refuse to benchmark whatever else might already be listening on the port.
port_rc=0
curl -s -o /dev/null --max-time 2 "$BASE/healthz" || port_rc=$?
((port_rc == 7)) || die "something already answers on $HOST:$PORT (curl rc $port_rc); set PORT to a free port"

cat >"$TMP/bench.toml" <<'EOF'
[rate_limit]
per_ip_per_minute = 0        # 0 disables the per-IP limit for the benchmark
account_failures_before_lockout = 0
EOF

SERVER_ARGS=(serve --config "$TMP/bench.toml" --listen "$HOST:$PORT" --public-url "$BASE" --database-url "sqlite://$TMP/hallpass.db")
SERVER_CMD_SHOWN="$HALLPASS_BIN serve --config \$TMP/bench.toml --listen $HOST:$PORT --public-url $BASE --database-url sqlite://\$TMP/hallpass.db"

LOAD_START=$(uptime | sed 's/.*load average: //')
log "starting $HALLPASS_BIN in $TMP on $BASE"
# HALLPASS_BIN is the script's setting, not the server's (which warns about unknown HALLPASS_* names).
(cd "$TMP" && exec env -u HALLPASS_BIN "$BIN" "${SERVER_ARGS[@]}") >"$TMP/server.log" 2>&1 &
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

CLK_TCK=$(getconf CLK_TCK)
vm_kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null || true; }
cpu_ticks() { sed 's/^.*) //' "/proc/$SERVER_PID/stat" | awk '{ print $12 + $13 }'; } # utime + stime
RSS_IDLE=$(vm_kib VmRSS)

# ---------------------------------------------------------------------------------------------
# Users and the session cookie
# ---------------------------------------------------------------------------------------------

post_json() { # post_json PATH JSON HEADERS_OUT BODY_OUT -> prints the status code
	curl -s --max-time 30 -o "$4" -D "$3" -w '%{http_code}' \
		-H 'Content-Type: application/json' -H 'Accept: application/json' \
		--data-binary "$2" "$BASE$1" || echo "curl-failed"
}

signup() {
	local code
	code=$(post_json /v1/signup "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}" "$TMP/h" "$TMP/b")
	[[ $code == 201 ]] || die "POST /v1/signup $1 answered $code: $(head -c 500 "$TMP/b" 2>/dev/null)"
}

log "creating users: bench and storm0..storm$((STORM_USERS - 1))"
signup bench
for ((i = 0; i < STORM_USERS; i++)); do signup "storm$i"; done

code=$(post_json /v1/login "{\"username\":\"bench\",\"password\":\"$PASSWORD\"}" "$TMP/login.h" "$TMP/login.b")
[[ $code == 200 ]] || die "POST /v1/login answered $code: $(head -c 500 "$TMP/login.b")"
SET_COOKIE=$(tr -d '\r' <"$TMP/login.h" | awk 'tolower($1) == "set-cookie:" && $2 ~ /^hallpass_session=/ { sub(/^[^:]*:[ \t]*/, ""); print; exit }')
[[ -n $SET_COOKIE ]] || die "POST /v1/login set no hallpass_session cookie; headers: $(tr -d '\r' <"$TMP/login.h")"
COOKIE=${SET_COOKIE%%;*}
COOKIE=${COOKIE#hallpass_session=}
[[ -n $COOKIE ]] || die "empty hallpass_session cookie"
COOKIE_NOTES=()
[[ $COOKIE == hp_st_* ]] || COOKIE_NOTES+=("value does not start with hp_st_")
cookie_attrs=";${SET_COOKIE#*;};"  # attributes, case-insensitive, matched whole
cookie_attrs=${cookie_attrs// /}
for attr in HttpOnly SameSite=Lax 'Path=/'; do
	[[ ${cookie_attrs,,} == *";${attr,,};"* ]] || COOKIE_NOTES+=("missing $attr")
done
if ((${#COOKIE_NOTES[@]})); then
	log "warning: session cookie: $(IFS=';'; echo "${COOKIE_NOTES[*]}")"
fi
# The cookie is a secret (hp_st_ is there for secret scanners): never write it into the report.
COOKIE_SHOWN="hp_st_…"

code=$(curl -s --max-time 10 -o "$TMP/me.b" -w '%{http_code}' -H "Cookie: hallpass_session=$COOKIE" "$BASE/v1/me" || echo curl-failed)
[[ $code == 200 ]] || die "GET /v1/me with the login cookie answered $code: $(head -c 500 "$TMP/me.b")"
log "logged in; GET /v1/me with the cookie answers 200"

# ---------------------------------------------------------------------------------------------
# wrk runs
# ---------------------------------------------------------------------------------------------

WRK_VERSION=$(wrk -v 2>&1 | head -n 1 | sed 's/ Copyright.*//' || true)
WRK_COMMANDS=() # distinct command shapes for the report (cookie redacted)

# bench_endpoint NAME ROUND -> sets R_rps R_p50 R_p99 R_non2xx R_serr R_tmo R_reqs R_cpu_us
bench_endpoint() {
	local name=$1 round=$2 url args=() shown t0 t1
	case $name in
	healthz)
		url="$BASE/healthz"
		shown="wrk -t$MAIN_THREADS -c$MAIN_CONNS -d${DUR_S}s --latency $url"
		;;
	me)
		url="$BASE/v1/me"
		args=(-H "Cookie: hallpass_session=$COOKIE")
		shown="wrk -t$MAIN_THREADS -c$MAIN_CONNS -d${DUR_S}s --latency -H 'Cookie: hallpass_session=$COOKIE_SHOWN' $url"
		;;
	esac
	((WARM_S == 0)) || shown+="   (after a ${WARM_S}s warm-up run of the same, discarded)"
	note_cmd "$shown"
	if ((WARM_S > 0)); then
		log "round $round: $name warm-up ${WARM_S}s"
		run_wrk "$RAW_DIR/r$round-$name-warmup.txt" "$WARM_S" \
			-t"$MAIN_THREADS" -c"$MAIN_CONNS" -d"${WARM_S}s" --latency "${args[@]+"${args[@]}"}" "$url"
	fi
	log "round $round: $name ${DUR_S}s"
	t0=$(cpu_ticks)
	run_wrk "$RAW_DIR/r$round-$name.txt" "$DUR_S" \
		-t"$MAIN_THREADS" -c"$MAIN_CONNS" -d"${DUR_S}s" --latency "${args[@]+"${args[@]}"}" "$url"
	t1=$(cpu_ticks)
	read -r R_rps R_p50 R_p99 R_non2xx R_serr R_tmo R_reqs _ < <(parse_wrk "$RAW_DIR/r$round-$name.txt")
	R_cpu_us=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$R_reqs" \
		'BEGIN { if (n == "NA" || n == 0) print "NA"; else printf "%.1f\n", d / hz * 1e6 / n }')
	log "  $name: $(fmt_rps "$R_rps") req/s, p50 $(fmt_ms "$R_p50"), p99 $(fmt_ms "$R_p99"), non-2xx $R_non2xx"
}

label() { if [[ $1 == me ]]; then echo /v1/me; else echo /healthz; fi; }

ROW_LINES=() RATIO_LINES=() RATIOS=() HZ_RPS=() ME_RPS=()
WARNINGS=()

for ((round = 1; round <= ROUNDS; round++)); do
	if ((round % 2)); then order=(healthz me); else order=(me healthz); fi
	for name in "${order[@]}"; do
		bench_endpoint "$name" "$round"
		if [[ $name == me ]]; then rps_me=$R_rps; else rps_hz=$R_rps; fi
		ROW_LINES+=("| $round | $(label "$name") | $(fmt_rps "$R_rps") | $(fmt_ms "$R_p50") | $(fmt_ms "$R_p99") | $R_non2xx | $R_serr / $R_tmo | ${R_cpu_us} µs |")
		((R_non2xx == 0)) || WARNINGS+=("round $round $(label "$name"): $R_non2xx responses with status ≥ 400")
		((R_serr + R_tmo == 0)) || WARNINGS+=("round $round $(label "$name"): $R_serr socket errors, $R_tmo timeouts")
	done
	HZ_RPS+=("$rps_hz")
	ME_RPS+=("$rps_me")
	ratio=$(fmt_ratio "$rps_me" "$rps_hz")
	RATIOS+=("$ratio")
	RATIO_LINES+=("| $round | $(label "${order[0]}") → $(label "${order[1]}") | $(fmt_rps "$rps_hz") | $(fmt_rps "$rps_me") | $ratio |")
done
RATIO_MEDIAN=$(median "${RATIOS[@]}")
[[ $RATIO_MEDIAN == NA ]] || RATIO_MEDIAN=$(printf '%.2f' "$RATIO_MEDIAN")
HZ_MEDIAN=$(median "${HZ_RPS[@]}")
ME_MEDIAN=$(median "${ME_RPS[@]}")
RSS_AFTER_MAIN=$(vm_kib VmRSS)

# ---------------------------------------------------------------------------------------------
# Login storm
# ---------------------------------------------------------------------------------------------

ME_STORM_SHOWN="wrk -t$ME_THREADS -c$ME_CONNS -d${DUR_S}s --latency -H 'Cookie: hallpass_session=$COOKIE_SHOWN' $BASE/v1/me"
STORM_DUR_S=$((DUR_S + 2 * STORM_LEAD_S))
STORM_SHOWN="wrk -t$STORM_THREADS -c$STORM_CONNS -d${STORM_DUR_S}s --timeout $STORM_WRK_TIMEOUT --latency -s bench/lua/login-storm.lua $BASE/v1/login -- $STORM_USERS storm"
note_cmd "$ME_STORM_SHOWN   (alone, then during the login storm)"
note_cmd "$STORM_SHOWN   (starts ${STORM_LEAD_S}s before the /v1/me run)"

me_args=(-t"$ME_THREADS" -c"$ME_CONNS" -d"${DUR_S}s" --latency -H "Cookie: hallpass_session=$COOKIE" "$BASE/v1/me")

log "storm: /v1/me alone ${DUR_S}s"
run_wrk "$RAW_DIR/storm-me-alone.txt" "$DUR_S" "${me_args[@]}"
read -r A_rps A_p50 A_p99 A_non2xx A_serr A_tmo _ _ < <(parse_wrk "$RAW_DIR/storm-me-alone.txt")

RSS_BEFORE_STORM=$(vm_kib VmRSS)
HWM_RESET=no
if { echo 5 >"/proc/$SERVER_PID/clear_refs"; } 2>/dev/null; then HWM_RESET=yes; fi
[[ $HWM_RESET == yes ]] || WARNINGS+=("could not reset VmHWM (/proc/PID/clear_refs not writable): VmHWM is the peak since start")

: >"$TMP/sampling"
(
	while [[ -e $TMP/sampling ]]; do
		while read -r key kib _; do
			[[ $key == VmRSS: ]] && echo "$kib"
		done <"/proc/$SERVER_PID/status" 2>/dev/null || true
		sleep 0.2
	done
) >"$RAW_DIR/storm-rss-kib.txt" &
SAMPLER_PID=$!

log "storm: ${STORM_CONNS} connections logging in for ${STORM_DUR_S}s; /v1/me measured after ${STORM_LEAD_S}s"
storm_rc=0
timeout -k 5 $((STORM_DUR_S + WRK_SLACK_S)) wrk -t"$STORM_THREADS" -c"$STORM_CONNS" -d"${STORM_DUR_S}s" \
	--timeout "$STORM_WRK_TIMEOUT" --latency -s "$LOGIN_LUA" "$BASE/v1/login" -- "$STORM_USERS" storm \
	>"$RAW_DIR/storm-login.txt" 2>&1 &
STORM_PID=$!
sleep "$STORM_LEAD_S"
run_wrk "$RAW_DIR/storm-me-under.txt" "$DUR_S" "${me_args[@]}"
wait "$STORM_PID" || storm_rc=$?
STORM_PID=""
rm -f "$TMP/sampling"
wait "$SAMPLER_PID" || true
SAMPLER_PID=""
if ((storm_rc != 0)); then
	cat "$RAW_DIR/storm-login.txt" >&2
	die "login storm wrk exited with $storm_rc"
fi
HWM_END=$(vm_kib VmHWM)
RSS_END=$(vm_kib VmRSS)
LOAD_END=$(uptime | sed 's/.*load average: //')

read -r U_rps U_p50 U_p99 U_non2xx U_serr U_tmo _ _ < <(parse_wrk "$RAW_DIR/storm-me-under.txt")
read -r L_rps L_p50 L_p99 _ L_serr L_tmo _ L_elapsed < <(parse_wrk "$RAW_DIR/storm-login.txt")
log "  /v1/me alone p99 $(fmt_ms "$A_p99"), during the storm p99 $(fmt_ms "$U_p99"); logins $(fmt_rps "$L_rps") req/s"
RSS_SAMPLES=$(grep -c . "$RAW_DIR/storm-rss-kib.txt" || true)
RSS_PEAK=$(sort -n "$RAW_DIR/storm-rss-kib.txt" | tail -n 1)

declare -A ST=()
ST_TOTAL=0
while read -r c n; do
	[[ -n $c ]] || continue
	ST[$c]=$n
	ST_TOTAL=$((ST_TOTAL + n))
done < <(parse_status_counts "$RAW_DIR/storm-login.txt")
S200=${ST[200]:-0} S503=${ST[503]:-0} S429=${ST[429]:-0}
S200_RATE=$(awk -v n="$S200" -v ms="$L_elapsed" 'BEGIN { if (ms == "NA" || ms == 0) print "NA"; else print n / (ms / 1000) }')
OTHER=""
for c in $(printf '%s\n' "${!ST[@]}" | sort -n); do
	case $c in 200 | 503 | 429) ;; *) OTHER+="${OTHER:+, }$c: ${ST[$c]}" ;; esac
done
[[ -n $OTHER ]] || OTHER=0
((ST_TOTAL > 0)) || WARNINGS+=("the login storm got no answer at all")
[[ $OTHER == 0 ]] || WARNINGS+=("login storm answers other than 200/503/429: $OTHER")
((A_non2xx + U_non2xx == 0)) || WARNINGS+=("/v1/me got status ≥ 400 during the storm section: alone $A_non2xx, under storm $U_non2xx")
((L_serr + L_tmo == 0)) || WARNINGS+=("login storm: $L_serr socket errors, $L_tmo timeouts (wrk --timeout $STORM_WRK_TIMEOUT)")
((${#COOKIE_NOTES[@]} == 0)) || WARNINGS+=("session cookie: $(IFS=';'; echo "${COOKIE_NOTES[*]}")")

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
GIT_REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ $GIT_REV != unknown ]] && ! git diff --quiet HEAD -- 2>/dev/null; then GIT_REV+=" (working tree modified)"; fi
BIN_BUILT=$(date -u -r "$BIN" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo unknown)
BIN_SHA=$(sha256sum "$BIN" | cut -c1-16)

# shellcheck disable=SC2016 # the backquotes below are Markdown
report() {
	cat <<EOF
# hallpass session benchmark, $STARTED_AT

- Command: \`$COMMAND_LINE\`
- Server: \`$SERVER_CMD_SHOWN\`, with \`bench.toml\` turning the per-IP rate limit and the account lockout off
  (\`[rate_limit] per_ip_per_minute = 0\`, \`account_failures_before_lockout = 0\`); SQLite in a fresh temp dir.
- Binary: \`$HALLPASS_BIN\` (built $BIN_BUILT, sha256 $BIN_SHA…), repo at $GIT_REV
- Machine: $(nproc) CPUs, $CPU_MODEL; $(uname -sr)
- Load average (1, 5, 15 min): start $LOAD_START; end $LOAD_END
- wrk: $WRK_VERSION
- wrk commands:
$(for c in "${WRK_COMMANDS[@]}"; do printf '  - `%s`\n' "$c"; done)

## GET /v1/me (session cookie) vs GET /healthz

wrk -t$MAIN_THREADS -c$MAIN_CONNS, $( ((WARM_S > 0)) && echo "${WARM_S} s warm-up (discarded) then" || echo "no warm-up,") ${DUR_S} s measured, per endpoint; the order alternates by round.
"non-2xx" is wrk's "Non-2xx or 3xx responses" (status ≥ 400). Server CPU/req = server utime+stime during the measured run / requests.

| round | endpoint | req/s | p50 | p99 | non-2xx | socket errors / timeouts | server CPU/req |
|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${ROW_LINES[@]}")

| round | order | /healthz req/s | /v1/me req/s | /v1/me ÷ /healthz |
|---|---|---|---|---|
$(printf '%s\n' "${RATIO_LINES[@]}")
| **median** | | $(fmt_rps "$HZ_MEDIAN") | $(fmt_rps "$ME_MEDIAN") | **$RATIO_MEDIAN** |

## Login storm

GET /v1/me with wrk -t$ME_THREADS -c$ME_CONNS for ${DUR_S} s, first alone, then while wrk -t$STORM_THREADS -c$STORM_CONNS hammers
POST /v1/login (JSON, users storm0..storm$((STORM_USERS - 1)) round robin, ${STORM_DUR_S} s starting ${STORM_LEAD_S} s earlier).

| GET /v1/me | req/s | p50 | p99 | non-2xx | socket errors / timeouts |
|---|---|---|---|---|---|
| alone | $(fmt_rps "$A_rps") | $(fmt_ms "$A_p50") | $(fmt_ms "$A_p99") | $A_non2xx | $A_serr / $A_tmo |
| during login storm | $(fmt_rps "$U_rps") | $(fmt_ms "$U_p50") | $(fmt_ms "$U_p99") | $U_non2xx | $U_serr / $U_tmo |
| storm ÷ alone | $(fmt_ratio "$U_rps" "$A_rps") | $(fmt_ratio "$U_p50" "$A_p50") | $(fmt_ratio "$U_p99" "$A_p99") | | |

| POST /v1/login | req/s (all answers) | 200 per s | p50 | p99 | 200 | 503 overloaded | 429 rate limited | other | socket errors / timeouts |
|---|---|---|---|---|---|---|---|---|---|
| storm, $STORM_CONNS connections | $(fmt_rps "$L_rps") | $(fmt_rps "$S200_RATE") | $(fmt_ms "$L_p50") | $(fmt_ms "$L_p99") | $S200 | $S503 | $S429 | $OTHER | $L_serr / $L_tmo |

| server memory | |
|---|---|
| VmRSS right after start | $(fmt_mib "$RSS_IDLE") |
| VmRSS after the /v1/me vs /healthz rounds | $(fmt_mib "$RSS_AFTER_MAIN") |
| VmRSS before the storm | $(fmt_mib "$RSS_BEFORE_STORM") |
| peak VmRSS during the storm (sampled every 200 ms, $RSS_SAMPLES samples) | $(fmt_mib "$RSS_PEAK") |
| VmHWM at the end (reset before the storm: $HWM_RESET) | $(fmt_mib "$HWM_END") |
| VmRSS at the end | $(fmt_mib "$RSS_END") |
EOF
	if ((${#WARNINGS[@]})); then
		printf '\n## Warnings\n\n'
		printf -- '- %s\n' "${WARNINGS[@]}"
	fi
	printf '\nRaw wrk outputs and the server log: `%s/` (not committed).\n' "${RAW_DIR#"$REPO_ROOT"/}"
}

mkdir -p "$RESULTS_DIR"
report | tee "$RESULT_MD"
log "report written to ${RESULT_MD#"$REPO_ROOT"/}"
