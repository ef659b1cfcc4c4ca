# shellcheck shell=bash
# Shell helpers shared by the benchmark scripts (run-session-bench.sh, run-token-bench.sh).
# Source it after `set -euo pipefail` and `export LC_ALL=C`; it defines functions only and runs
# nothing. run_wrk uses the globals WRK_PID (set while a wrk runs, for the caller's cleanup trap) and
# WRK_SLACK_S (seconds allowed above each wrk's own duration); note_cmd appends to WRK_COMMANDS.

# ---------------------------------------------------------------------------------------------
# Helpers: logging, units, wrk output parsing
# ---------------------------------------------------------------------------------------------

log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}

# "10s" | "2m" | "1h" | "10" -> seconds
to_secs() {
	local v=$1
	[[ $v =~ ^([0-9]+)([smh]?)$ ]] || die "bad duration '$v' (use e.g. 10s, 2m)"
	local n=${BASH_REMATCH[1]}
	case ${BASH_REMATCH[2]} in
	'' | s) echo "$n" ;;
	m) echo $((n * 60)) ;;
	h) echo $((n * 3600)) ;;
	esac
}

# Reads one wrk output (with --latency) and prints one line:
#   rps p50_ms p99_ms non2xx socket_errors timeouts requests elapsed_ms
# Latencies are normalised to milliseconds whatever unit wrk chose (us, ms, s, m, h). Missing
# values are printed as NA (e.g. wrk died, or finished no request).
parse_wrk() {
	awk '
	function to_ms(s,   n, u) {
		if (!match(s, /^[0-9]+(\.[0-9]+)?/)) return "NA"
		n = substr(s, 1, RLENGTH) + 0
		u = substr(s, RLENGTH + 1)
		if (u == "us") return n / 1000
		if (u == "ms") return n
		if (u == "s")  return n * 1000
		if (u == "m")  return n * 60000
		if (u == "h")  return n * 3600000
		return "NA"
	}
	BEGIN { OFMT = "%.4f"; rps = "NA"; p50 = "NA"; p99 = "NA"; non2xx = 0; serr = 0; tmo = 0; reqs = "NA"; elapsed = "NA"; dist = 0 }
	/^[ \t]*Latency Distribution/      { dist = 1; next }
	dist && $1 == "50%"                { p50 = to_ms($2) }
	dist && $1 == "99%"                { p99 = to_ms($2); dist = 0 }
	/^[ \t]*[0-9]+ requests in /       { reqs = $1; e = $4; sub(/,$/, "", e); elapsed = to_ms(e) }
	/^[ \t]*Non-2xx or 3xx responses:/ { non2xx = $NF + 0 }
	/^[ \t]*Socket errors:/ {
		# Socket errors: connect 0, read 0, write 0, timeout 0
		for (i = 1; i < NF; i++) {
			v = $(i + 1); sub(/,$/, "", v)
			if ($i == "connect" || $i == "read" || $i == "write") serr += v
			if ($i == "timeout") tmo += v
		}
	}
	/^Requests\/sec:/                  { rps = $2 + 0 }
	END { print rps, p50, p99, non2xx, serr, tmo, reqs, elapsed }
	' "$1"
}

# "STATUS <code> <count>" lines printed by the Lua scripts in bench/lua/ -> "code count" lines
parse_status_counts() { awk '$1 == "STATUS" { print $2, $3 }' "$1"; }

# Median of numbers given as arguments (NA ignored); NA if none.
median() {
	printf '%s\n' "$@" | awk '$1 != "NA" && $1 != ""' | sort -g | awk '
		{ a[NR] = $1 }
		END {
			if (NR == 0) { print "NA"; exit }
			if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2
		}'
}

# Formatting for the report
fmt_ms() { awk -v v="$1" 'BEGIN { if (v == "NA") print "NA"; else if (v < 10) printf "%.3f ms\n", v; else printf "%.1f ms\n", v }'; }
fmt_rps() { awk -v v="$1" 'BEGIN { if (v == "NA") print "NA"; else if (v < 100) printf "%.1f\n", v; else printf "%.0f\n", v }'; }
fmt_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || b == 0) print "NA"; else printf "%.2f\n", a / b }'; }
fmt_mib() { awk -v v="$1" 'BEGIN { if (v == "" || v == "NA") print "NA"; else printf "%.1f MiB\n", v / 1024 }'; }

# ---------------------------------------------------------------------------------------------
# Processes. Only PIDs this script started are ever signalled.
# ---------------------------------------------------------------------------------------------

proc_state() { # state letter of a PID, empty if gone
	[[ -r /proc/$1/stat ]] || return 0
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $1 }'
}
alive() { local s; s=$(proc_state "$1"); [[ -n $s && $s != Z ]]; }

stop_pid() { # stop_pid PID GRACE_SECONDS: TERM, wait, KILL if still there, reap
	local pid=$1 grace=$2 i
	alive "$pid" && kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < grace * 10; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		log "pid $pid still running after ${grace}s; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null || true # its exit status is not ours: a process ended by TERM reports 143
	return 0
}

# ---------------------------------------------------------------------------------------------
# wrk runs
# ---------------------------------------------------------------------------------------------

# note_cmd CMD: remember a distinct wrk command shape for the report (in WRK_COMMANDS).
note_cmd() {
	local c=$1 x
	for x in "${WRK_COMMANDS[@]+"${WRK_COMMANDS[@]}"}"; do [[ $x == "$c" ]] && return 0; done
	WRK_COMMANDS+=("$c")
}

# run_wrk OUT SECONDS ARGS... : wrk bounded by timeout; output kept in OUT. wrk runs as a background
# job that the script waits for: `timeout` puts wrk in its own process group, out of reach of a
# terminal's Ctrl-C, and the `wait` builtin (unlike a foreground command) returns at once when the
# script gets a signal, so the INT/TERM trap and then cleanup run immediately and stop it.
run_wrk() {
	local out=$1 secs=$2 rc=0
	shift 2
	timeout -k 5 $((secs + WRK_SLACK_S)) wrk "$@" >"$out" 2>&1 &
	WRK_PID=$!
	wait "$WRK_PID" || rc=$?
	WRK_PID=""
	if ((rc != 0)); then
		cat "$out" >&2
		die "wrk exited with $rc: wrk $*"
	fi
}

# print_parsed_wrk FILE: what the parser reads from a saved wrk output (the scripts' --parse-wrk);
# a relative FILE is taken from CALLER_DIR, the directory the script was started in.
print_parsed_wrk() {
	local f=$1
	[[ $f == /* ]] || f=$CALLER_DIR/$f
	[[ -r $f ]] || die "cannot read $1"
	echo "rps p50_ms p99_ms non2xx socket_errors timeouts requests elapsed_ms"
	parse_wrk "$f"
	parse_status_counts "$f" | sed 's/^/status /'
}
