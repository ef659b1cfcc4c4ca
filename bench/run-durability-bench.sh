#!/usr/bin/env bash
# Durability benchmark for a release hallpass binary on SQLite: acknowledged writes with
# sqlite_synchronous=full (the default: on disk before the answer) against =normal (opt-in), two
# servers side by side in one run, alternating order: signups/s and logins/s, then fsync calls
# per acknowledged signup and login counted with strace. See bench/README.md.
#
#   bench/run-durability-bench.sh                 run (settings from the environment, see below)
#   bench/run-durability-bench.sh --parse-wrk F   print what the parser reads from a saved wrk output
#   bench/run-durability-bench.sh --help
#
# Environment: HALLPASS_BIN (default target/release/hallpass), PORT (18080; normal uses PORT+1),
# ROUNDS (3), DURATION (10s), WARMUP (2s), CONNS (16), FSYNC_OPS (50), DB_BASE (/var/tmp).
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
WARMUP=${WARMUP:-2s}
CONNS=${CONNS:-16}
FSYNC_OPS=${FSYNC_OPS:-50}
DB_BASE=${DB_BASE:-/var/tmp}

if ! [[ $PORT =~ ^[0-9]+$ ]] || ((PORT < 1 || PORT > 65534)); then die "bad PORT '$PORT'"; fi
if ! [[ $ROUNDS =~ ^[0-9]+$ ]] || ((ROUNDS < 1)); then die "bad ROUNDS '$ROUNDS'"; fi
if ! [[ $CONNS =~ ^[0-9]+$ ]] || ((CONNS < 2)); then die "bad CONNS '$CONNS' (at least 2: one per wrk thread)"; fi
if ! [[ $FSYNC_OPS =~ ^[0-9]+$ ]] || ((FSYNC_OPS < 1 || FSYNC_OPS > 10000)); then die "bad FSYNC_OPS '$FSYNC_OPS'"; fi
DUR_S=$(to_secs "$DURATION")
WARM_S=$(to_secs "$WARMUP")
((DUR_S >= 1)) || die "DURATION must be at least 1s"

COMMAND_LINE="HALLPASS_BIN=$HALLPASS_BIN PORT=$PORT ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP CONNS=$CONNS FSYNC_OPS=$FSYNC_OPS DB_BASE=$DB_BASE bench/run-durability-bench.sh"

HOST=127.0.0.1 # the only address this script ever talks to
PASSWORD="violet anchor trombone seven"
SIGNUP_LUA="$SCRIPT_DIR/lua/signup-stream.lua"
LOGIN_LUA="$SCRIPT_DIR/lua/login-storm.lua"
LOGIN_USERS=32  # users dur0… that the login runs cycle through
MODES=(full normal)
WORKLOADS=(signup login)
THREADS=2
WRK_TIMEOUT=10s # per-request timeout of wrk: a slow commit is counted in the latency, not as an error
WRK_SLACK_S=30  # `timeout` allowance above each wrk's own duration
IDLE_S=5        # strace on an idle server, as the control for the fsync counts

for tool in wrk curl timeout awk sort strace; do
	command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y wrk curl strace)"
done
[[ -r $SIGNUP_LUA && -r $LOGIN_LUA ]] || die "missing $SIGNUP_LUA or $LOGIN_LUA"
[[ -x $HALLPASS_BIN && -f $HALLPASS_BIN ]] || die "no executable at HALLPASS_BIN=$HALLPASS_BIN (build it with: cargo build --release)"
BIN=$(cd -- "$(dirname -- "$HALLPASS_BIN")" && pwd)/$(basename -- "$HALLPASS_BIN")
[[ $BIN == */release/* ]] || log "warning: $HALLPASS_BIN is not under a release/ directory; benchmark a release build"

# fsync cost is the point: the database must be on a real disk.
[[ -d $DB_BASE && -w $DB_BASE ]] || die "DB_BASE=$DB_BASE is not a writable directory"
DB_FSTYPE=$(stat -f -c %T "$DB_BASE")
case $DB_FSTYPE in
tmpfs | ramfs | overlayfs) die "DB_BASE=$DB_BASE is on $DB_FSTYPE: fsync costs nothing there; set DB_BASE to a directory on a disk" ;;
esac
DB_DF=$(df -PT "$DB_BASE" | awk 'NR == 2 { print $2 " on " $1 ", mounted on " $7 }') # stat -f says ext2/ext3 for ext4

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
STARTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
RESULTS_DIR=${RESULTS_DIR:-$SCRIPT_DIR/results}
[[ $RESULTS_DIR == /* ]] || RESULTS_DIR=$REPO_ROOT/$RESULTS_DIR
RESULT_MD="$RESULTS_DIR/durability-$STAMP.md"
RAW_DIR="$RESULTS_DIR/raw/durability-$STAMP" # git-ignored: raw wrk and strace outputs, server logs
mkdir -p "$RAW_DIR"

# ---------------------------------------------------------------------------------------------
# Servers: one per mode, both running for the whole run. Only processes started here are ever
# signalled, by their PIDs.
# ---------------------------------------------------------------------------------------------

TMP=""
WRK_PID=""
STRACE_PID=""
declare -A SPID=() SPORT=() SBASE=()
SPORT[full]=$PORT
SPORT[normal]=$((PORT + 1))
for m in "${MODES[@]}"; do SBASE[$m]="http://$HOST:${SPORT[$m]}"; done

cleanup() {
	local rc=$? m
	set +e
	trap - EXIT INT TERM
	[[ -n $STRACE_PID ]] && stop_pid "$STRACE_PID" 5
	[[ -n $WRK_PID ]] && stop_pid "$WRK_PID" 5
	for m in "${MODES[@]}"; do
		[[ -n ${SPID[$m]:-} ]] || continue
		stop_pid "${SPID[$m]}" 10
		log "$m server (pid ${SPID[$m]}) stopped"
	done
	if [[ -n $TMP && -d $TMP ]]; then
		for m in "${MODES[@]}"; do
			[[ -f $TMP/$m/server.log ]] || continue
			cp "$TMP/$m/server.log" "$RAW_DIR/server-$m.log"
			if ((rc != 0)); then
				log "last lines of the $m server log ($RAW_DIR/server-$m.log):"
				tail -n 20 "$TMP/$m/server.log" >&2
			fi
		done
		rm -rf -- "$TMP"
	fi
	rmdir "$RAW_DIR" 2>/dev/null # only if the run stopped before writing anything
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TMP=$(mktemp -d "$DB_BASE/hallpass-durability-bench.XXXXXX")

for m in "${MODES[@]}"; do
	port_rc=0
	curl -s -o /dev/null --max-time 2 "${SBASE[$m]}/healthz" || port_rc=$?
	((port_rc == 7)) || die "something already answers on $HOST:${SPORT[$m]} (curl rc $port_rc); set PORT to a free port (PORT and PORT+1 are used)"
done

# The rate limits off (one load generator, one IP), and a cheap argon2 so that the database write,
# not hashing, is what a signup or a login costs.
BENCH_TOML='[rate_limit]
per_ip_per_minute = 0        # 0 disables the per-IP limit for the benchmark
account_failures_before_lockout = 0

[argon2]                     # cheap hashing: the benchmark measures the database write
m_cost = 256
t_cost = 1
p_cost = 1'

SERVER_CMD_SHOWN="HALLPASS_SQLITE_SYNCHRONOUS=<full|normal> $HALLPASS_BIN serve --config \$TMP/<mode>/bench.toml --listen $HOST:<PORT|PORT+1> --public-url http://$HOST:<port> --database-url sqlite://\$TMP/<mode>/hallpass.db"

LOAD_START=$(uptime | sed 's/.*load average: //')
for m in "${MODES[@]}"; do
	mkdir "$TMP/$m"
	printf '%s\n' "$BENCH_TOML" >"$TMP/$m/bench.toml"
	log "starting $HALLPASS_BIN ($m) in $TMP/$m on ${SBASE[$m]}"
	# HALLPASS_BIN is the script's setting, not the server's (which warns about unknown HALLPASS_* names).
	(cd "$TMP/$m" && exec env -u HALLPASS_BIN NO_COLOR=1 HALLPASS_SQLITE_SYNCHRONOUS="$m" "$BIN" serve \
		--config "$TMP/$m/bench.toml" --listen "$HOST:${SPORT[$m]}" --public-url "${SBASE[$m]}" \
		--database-url "sqlite://$TMP/$m/hallpass.db") >"$TMP/$m/server.log" 2>&1 &
	SPID[$m]=$!
done
for m in "${MODES[@]}"; do
	deadline=$((SECONDS + 30))
	while :; do
		alive "${SPID[$m]}" || die "$m server exited during startup"
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "${SBASE[$m]}/healthz" || true)
		[[ $code == 200 ]] && break
		((SECONDS < deadline)) || die "$m: GET /healthz did not answer 200 within 30 s (last: ${code:-none})"
		sleep 0.2
	done
	log "$m server up (pid ${SPID[$m]})"
done

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; } # utime + stime of PID

post_json() { # post_json BASE PATH JSON BODY_OUT -> prints the status code
	curl -s --max-time 30 -o "$4" -w '%{http_code}' \
		-H 'Content-Type: application/json' -H 'Accept: application/json' \
		--data-binary "$3" "$1$2" || echo "curl-failed"
}

for m in "${MODES[@]}"; do
	log "$m: creating users dur0..dur$((LOGIN_USERS - 1))"
	for ((i = 0; i < LOGIN_USERS; i++)); do
		code=$(post_json "${SBASE[$m]}" /v1/signup "{\"username\":\"dur$i\",\"password\":\"$PASSWORD\"}" "$TMP/b")
		[[ $code == 201 ]] || die "$m: POST /v1/signup dur$i answered $code: $(head -c 500 "$TMP/b" 2>/dev/null)"
	done
	code=$(post_json "${SBASE[$m]}" /v1/login "{\"username\":\"dur0\",\"password\":\"$PASSWORD\"}" "$TMP/b")
	[[ $code == 200 ]] || die "$m: POST /v1/login dur0 answered $code: $(head -c 500 "$TMP/b" 2>/dev/null)"
done

# ---------------------------------------------------------------------------------------------
# Throughput: signups and logins, full vs normal, alternating order
# ---------------------------------------------------------------------------------------------

WRK_VERSION=$(wrk -v 2>&1 | head -n 1 | sed 's/ Copyright.*//' || true)
WRK_COMMANDS=()
WARNINGS=()

expected_status() { if [[ $1 == signup ]]; then echo 201; else echo 200; fi; }

# wrk_args WORKLOAD MODE SECONDS TAG -> sets W_ARGS (and notes the command shape)
wrk_args() {
	local w=$1 m=$2 secs=$3 tag=$4 url shown
	if [[ $w == signup ]]; then
		url="${SBASE[$m]}/v1/signup"
		W_ARGS=(-t"$THREADS" -c"$CONNS" -d"${secs}s" --timeout "$WRK_TIMEOUT" --latency -s "$SIGNUP_LUA" "$url" -- "$tag")
		shown="wrk -t$THREADS -c$CONNS -d${DUR_S}s --timeout $WRK_TIMEOUT --latency -s bench/lua/signup-stream.lua http://$HOST:<port>/v1/signup -- <unique prefix per run>"
	else
		url="${SBASE[$m]}/v1/login"
		W_ARGS=(-t"$THREADS" -c"$CONNS" -d"${secs}s" --timeout "$WRK_TIMEOUT" --latency -s "$LOGIN_LUA" "$url" -- "$LOGIN_USERS" dur)
		shown="wrk -t$THREADS -c$CONNS -d${DUR_S}s --timeout $WRK_TIMEOUT --latency -s bench/lua/login-storm.lua http://$HOST:<port>/v1/login -- $LOGIN_USERS dur"
	fi
	((WARM_S == 0)) || shown+="   (after a ${WARM_S}s warm-up run of the same, discarded)"
	note_cmd "$shown"
}

# statuses FILE -> "201: 1234, 409: 2" (or "none")
statuses() {
	local s
	s=$(parse_status_counts "$1" | sort -n | awk '{ printf "%s%s: %s", (NR > 1 ? ", " : ""), $1, $2 }')
	echo "${s:-none}"
}
status_count() { parse_status_counts "$1" | awk -v c="$2" '$1 == c { n += $2 } END { print n + 0 }'; }

declare -A OK_RATES=() P50S=() P99S=() # key "workload mode" -> space-separated values per round
ROW_LINES=()

for ((round = 1; round <= ROUNDS; round++)); do
	if ((round % 2)); then order=(full normal); else order=(normal full); fi
	for w in "${WORKLOADS[@]}"; do
		for m in "${order[@]}"; do
			if ((WARM_S > 0)); then
				wrk_args "$w" "$m" "$WARM_S" "w${round}x"
				log "round $round: $w $m warm-up ${WARM_S}s"
				run_wrk "$RAW_DIR/r$round-$w-$m-warmup.txt" "$WARM_S" "${W_ARGS[@]}"
			fi
			wrk_args "$w" "$m" "$DUR_S" "m${round}x"
			out="$RAW_DIR/r$round-$w-$m.txt"
			log "round $round: $w $m ${DUR_S}s"
			t0=$(cpu_ticks "${SPID[$m]}")
			run_wrk "$out" "$DUR_S" "${W_ARGS[@]}"
			t1=$(cpu_ticks "${SPID[$m]}")
			read -r rps p50 p99 _ serr tmo reqs elapsed < <(parse_wrk "$out")
			want=$(expected_status "$w")
			ok=$(status_count "$out" "$want")
			ok_rate=$(awk -v n="$ok" -v ms="$elapsed" 'BEGIN { if (ms == "NA" || ms == 0) print "NA"; else print n / (ms / 1000) }')
			cpu_us=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$reqs" \
				'BEGIN { if (n == "NA" || n == 0) print "NA"; else printf "%.0f\n", d / hz * 1e6 / n }')
			st=$(statuses "$out")
			OK_RATES["$w $m"]+="$ok_rate "
			P50S["$w $m"]+="$p50 "
			P99S["$w $m"]+="$p99 "
			ROW_LINES+=("| $round | $w | $m | $(fmt_rps "$rps") | $(fmt_rps "$ok_rate") | $(fmt_ms "$p50") | $(fmt_ms "$p99") | $st | $serr / $tmo | $cpu_us µs |")
			[[ $st == "$want: $ok" ]] || WARNINGS+=("round $round $w $m: answers other than $want: $st")
			((serr + tmo == 0)) || WARNINGS+=("round $round $w $m: $serr socket errors, $tmo timeouts (wrk --timeout $WRK_TIMEOUT)")
			log "  $w $m: $(fmt_rps "$ok_rate") $want/s, p50 $(fmt_ms "$p50"), p99 $(fmt_ms "$p99"), statuses $st"
		done
	done
done

# ---------------------------------------------------------------------------------------------
# fsync/fdatasync per acknowledged write, counted with strace
# ---------------------------------------------------------------------------------------------

# strace_start MODE OUT: attach to every thread of the server, counting fsync and fdatasync.
strace_start() {
	local m=$1 out=$2 i
	strace -f -c -e trace=fsync,fdatasync -o "$out" -p "${SPID[$m]}" 2>"$out.stderr" &
	STRACE_PID=$!
	for ((i = 0; i < 50; i++)); do # up to 5 s for "Process N attached"
		grep -q attached "$out.stderr" 2>/dev/null && break
		alive "$STRACE_PID" || die "strace exited: $(cat "$out.stderr")"
		sleep 0.1
	done
	grep -q attached "$out.stderr" || die "strace did not attach to pid ${SPID[$m]} within 5 s: $(cat "$out.stderr")"
	sleep 0.5 # the remaining threads
}
strace_stop() { # INT makes strace detach and write its summary
	kill -INT "$STRACE_PID" 2>/dev/null
	local i
	for ((i = 0; i < 100; i++)); do
		alive "$STRACE_PID" || break
		sleep 0.1
	done
	if alive "$STRACE_PID"; then
		log "strace (pid $STRACE_PID) did not detach on INT within 10 s"
		stop_pid "$STRACE_PID" 5
	fi
	wait "$STRACE_PID" 2>/dev/null || true # strace exits non-zero after INT; set -e must not see it
	STRACE_PID=""
}
# calls FILE SYSCALL -> the calls column of strace -c for SYSCALL (0 if absent)
calls() { awk -v s="$2" '$NF == s && $4 ~ /^[0-9]+$/ { n = $4 } END { print n + 0 }' "$1"; }

declare -A FS_LINES=()
FS_SUMMARY=()
for m in "${MODES[@]}"; do
	# Idle control: whatever the server syncs with no request at all.
	out="$RAW_DIR/strace-$m-idle.txt"
	log "$m: strace on the idle server for ${IDLE_S}s"
	strace_start "$m" "$out"
	sleep "$IDLE_S"
	strace_stop
	idle=$(($(calls "$out" fsync) + $(calls "$out" fdatasync)))

	for w in signup login; do
		out="$RAW_DIR/strace-$m-$w.txt"
		want=$(expected_status "$w")
		log "$m: strace over $FSYNC_OPS sequential $w requests"
		strace_start "$m" "$out"
		ok=0 other=""
		t0=$(date +%s%N)
		for ((i = 0; i < FSYNC_OPS; i++)); do
			if [[ $w == signup ]]; then
				body="{\"username\":\"fs${m}$i\",\"password\":\"$PASSWORD\"}"
			else
				body="{\"username\":\"dur$((i % LOGIN_USERS))\",\"password\":\"$PASSWORD\"}"
			fi
			code=$(post_json "${SBASE[$m]}" "/v1/$w" "$body" "$TMP/b")
			if [[ $code == "$want" ]]; then ok=$((ok + 1)); else other+="${other:+, }$code"; fi
		done
		t1=$(date +%s%N)
		sleep 0.2 # let a sync that follows the last answer land inside the window
		strace_stop
		fsyncs=$(calls "$out" fsync)
		fdatasyncs=$(calls "$out" fdatasync)
		per=$(awk -v n=$((fsyncs + fdatasyncs)) -v k="$ok" 'BEGIN { if (k == 0) print "NA"; else printf "%.2f\n", n / k }')
		ms=$(awk -v d=$((t1 - t0)) -v k="$FSYNC_OPS" 'BEGIN { printf "%.2f ms\n", d / 1e6 / k }')
		FS_LINES["$m $w"]="$ok | $fsyncs | $fdatasyncs | **$per** | $ms"
		[[ -z $other ]] || WARNINGS+=("strace $m $w: answers other than $want: $other")
		if [[ $m == full ]] && { [[ $per == NA ]] || awk -v p="$per" 'BEGIN { exit !(p < 1) }'; }; then
			WARNINGS+=("synchronous=full: $ok acknowledged ${w}s with only $((fsyncs + fdatasyncs)) fsync/fdatasync calls (fewer than one each)")
		fi
		log "  $m $w: $ok × $want, fsync $fsyncs, fdatasync $fdatasyncs, $per per acknowledged $w"
	done
	FS_SUMMARY+=("$m:$idle")
done
LOAD_END=$(uptime | sed 's/.*load average: //')

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

med() { # med "v1 v2 v3 " -> the median of the space-separated values
	local -a v
	read -r -a v <<<"$1"
	median "${v[@]}"
}

SUMMARY_LINES=()
for w in "${WORKLOADS[@]}"; do
	f=$(med "${OK_RATES["$w full"]}") n=$(med "${OK_RATES["$w normal"]}")
	SUMMARY_LINES+=("| $w ($(expected_status "$w")/s) | $(fmt_rps "$f") | $(fmt_ms "$(med "${P50S["$w full"]}")") / $(fmt_ms "$(med "${P99S["$w full"]}")") | $(fmt_rps "$n") | $(fmt_ms "$(med "${P50S["$w normal"]}")") / $(fmt_ms "$(med "${P99S["$w normal"]}")") | **$(fmt_ratio "$n" "$f")** |")
done

CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
GIT_REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ $GIT_REV != unknown ]] && ! git diff --quiet HEAD -- 2>/dev/null; then GIT_REV+=" (working tree modified)"; fi
BIN_BUILT=$(date -u -r "$BIN" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo unknown)
BIN_SHA=$(sha256sum "$BIN" | cut -c1-16)
idle_of() { local x; for x in "${FS_SUMMARY[@]}"; do [[ ${x%%:*} == "$1" ]] && echo "${x#*:}"; done; }

# shellcheck disable=SC2016 # the backquotes below are Markdown
report() {
	cat <<EOF
# hallpass durability benchmark (SQLite synchronous=full vs normal), $STARTED_AT

- Command: \`$COMMAND_LINE\`
- Servers, both running for the whole run: \`$SERVER_CMD_SHOWN\`
- \`bench.toml\`: rate limits off (\`[rate_limit] per_ip_per_minute = 0\`, \`account_failures_before_lockout = 0\`)
  and a **cheap argon2** (\`[argon2] m_cost = 256, t_cost = 1, p_cost = 1\`), so that the database write, not
  password hashing, is what a signup or a login costs. These are not the production costs (19 MiB, t=2).
- Database: SQLite in WAL mode, fresh per mode, in \`$DB_BASE\` ($DB_FSTYPE, $DB_DF)
- Binary: \`$HALLPASS_BIN\` (built $BIN_BUILT, sha256 $BIN_SHA…), repo at $GIT_REV
- Machine: $(nproc) CPUs, $CPU_MODEL; $(uname -sr)
- Load average (1, 5, 15 min): start $LOAD_START; end $LOAD_END
- wrk: $WRK_VERSION; strace: $(strace -V | head -n 1)
- wrk commands:
$(for c in "${WRK_COMMANDS[@]}"; do printf '  - `%s`\n' "$c"; done)

## Throughput

wrk -t$THREADS -c$CONNS, $( ((WARM_S > 0)) && echo "${WARM_S} s warm-up (discarded) then" || echo "no warm-up,") ${DUR_S} s measured per run; per round, signups
then logins, each on both servers, the order of the modes alternating by round. Every signup is a new
user (\`signup-stream.lua\`: a prefix per run and per wrk thread); every login creates a session row
(\`login-storm.lua\`, users dur0..dur$((LOGIN_USERS - 1))). "ok/s" counts only 201 (signup) or 200 (login) answers.
Server CPU/req = the server's utime+stime during the run / requests.

| round | workload | mode | req/s | ok/s | p50 | p99 | statuses | socket errors / timeouts | server CPU/req |
|---|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${ROW_LINES[@]}")

Medians over the $ROUNDS rounds:

| workload | full ok/s | full p50 / p99 | normal ok/s | normal p50 / p99 | normal ÷ full |
|---|---|---|---|---|---|
$(printf '%s\n' "${SUMMARY_LINES[@]}")

## fsync per acknowledged write

\`strace -f -c -e trace=fsync,fdatasync -p <server pid>\` attached to every thread of the running server while
curl sends $FSYNC_OPS requests one after the other (each a new user for signups; users dur0… for logins). The
idle line is the same strace for ${IDLE_S} s with no request, as the control.

| mode | workload | acknowledged | fsync | fdatasync | syncs per acknowledged request | wall time per request (curl, under strace) |
|---|---|---|---|---|---|---|
| full | signup | ${FS_LINES["full signup"]} |
| full | login | ${FS_LINES["full login"]} |
| normal | signup | ${FS_LINES["normal signup"]} |
| normal | login | ${FS_LINES["normal login"]} |

Idle control (${IDLE_S} s, no request): full $(idle_of full) syncs, normal $(idle_of normal) syncs.
EOF
	if ((${#WARNINGS[@]})); then
		printf '\n## Warnings\n\n'
		printf -- '- %s\n' "${WARNINGS[@]}"
	fi
	printf '\nRaw wrk and strace outputs and the server logs: `%s/` (not committed).\n' "${RAW_DIR#"$REPO_ROOT"/}"
}

mkdir -p "$RESULTS_DIR"
report | tee "$RESULT_MD"
log "report written to ${RESULT_MD#"$REPO_ROOT"/}"
