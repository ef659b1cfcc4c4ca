#!/usr/bin/env bash
# Cluster benchmark for a release hallpass binary (issue 4): three nodes behind nginx on
# PostgreSQL + Redis (deploy/cluster.sh), then the effect of the session-store size.
#
#   1. Through nginx: GET /healthz, cookie GET /v1/me and Bearer GET /v1/me, ROUNDS rounds with
#      the order alternating, wrk -t2 -c64 (WARMUP discarded, DURATION measured).
#   2. Store size: SIZES extra sessions inserted with SQL into the cluster's schema (for one dummy
#      user), then against node 1 directly: cookie GET /v1/me and Bearer GET /v1/me (wrk -t2 -c32)
#      and refresh-token rotations with 32 clients (wrk -t32 -c32, bench/lua/refresh-chain.lua).
#   3. An SVG chart of part 2 (plain Python, no libraries): CHART_OUT.
#
#   bench/run-cluster-bench.sh            run (settings from the environment, see below)
#   bench/run-cluster-bench.sh --help
#
# Environment: HALLPASS_BIN (target/release/hallpass), ROUNDS (3), DURATION (10s), WARMUP (3s),
# STORE_DURATION (8s), STORE_WARMUP (2s), SIZES ("10000 100000 1000000", cumulative extra
# sessions), PG_URL (postgres://root@127.0.0.1:5432/test), RESULTS_DIR (bench/results),
# CHART_OUT (docs/cluster-store-size.svg; "" for none).
set -euo pipefail
export LC_ALL=C

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
cd "$REPO_ROOT"

# shellcheck source=bench/lib.sh
. "$SCRIPT_DIR/lib.sh"

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
	sed -n '2,19p' "$SCRIPT_DIR/${BASH_SOURCE[0]##*/}" | sed 's/^# \{0,1\}//'
	exit 0
fi
[[ $# -eq 0 ]] || die "unexpected arguments: $* (settings come from the environment; see --help)"

# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------

HALLPASS_BIN=${HALLPASS_BIN:-target/release/hallpass}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
STORE_DURATION=${STORE_DURATION:-8s}
STORE_WARMUP=${STORE_WARMUP:-2s}
SIZES=${SIZES:-10000 100000 1000000}
PG_URL=${PG_URL:-postgres://root@127.0.0.1:5432/test}
CHART_OUT=${CHART_OUT-docs/cluster-store-size.svg}

{ [[ $ROUNDS =~ ^[0-9]+$ ]] && ((ROUNDS >= 1)); } || die "bad ROUNDS '$ROUNDS'"
DUR_S=$(to_secs "$DURATION")
WARM_S=$(to_secs "$WARMUP")
SDUR_S=$(to_secs "$STORE_DURATION")
SWARM_S=$(to_secs "$STORE_WARMUP")
((DUR_S >= 1 && SDUR_S >= 1)) || die "DURATION and STORE_DURATION must be at least 1s"
read -r -a SIZE_LIST <<<"$SIZES"
((${#SIZE_LIST[@]})) || die "SIZES is empty"
prev=0
for s in "${SIZE_LIST[@]}"; do
	{ [[ $s =~ ^[0-9]+$ ]] && ((s >= prev)); } || die "SIZES must be increasing numbers ($SIZES)"
	prev=$s
done

COMMAND_LINE="HALLPASS_BIN=$HALLPASS_BIN ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP STORE_DURATION=$STORE_DURATION STORE_WARMUP=$STORE_WARMUP SIZES='$SIZES' bench/run-cluster-bench.sh"

NGINX_URL=http://127.0.0.1:18443 # deploy/cluster.sh defaults
NODE1_URL=http://127.0.0.1:18101
USERNAME=bench
FILLER=bench-filler
PASSWORD="violet anchor trombone seven"
CHAIN_LUA="$SCRIPT_DIR/lua/refresh-chain.lua"
MAIN_THREADS=2 MAIN_CONNS=64
STORE_THREADS=2 STORE_CONNS=32
REFRESH_CLIENTS=32
WRK_SLACK_S=30 # used by run_wrk (lib.sh)
export WRK_SLACK_S
PSQL_TIMEOUT_S=900 # the 1M insert

for tool in wrk curl jq timeout awk sort sha256sum psql python3 nginx redis-server; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
[[ -x $HALLPASS_BIN && -f $HALLPASS_BIN ]] || die "no executable at HALLPASS_BIN=$HALLPASS_BIN (cargo build --release -p hallpass-server)"
BIN=$(cd -- "$(dirname -- "$HALLPASS_BIN")" && pwd)/$(basename -- "$HALLPASS_BIN")
[[ $BIN == */release/* ]] || log "warning: $HALLPASS_BIN is not under a release/ directory"

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
STARTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
RESULTS_DIR=${RESULTS_DIR:-$SCRIPT_DIR/results}
[[ $RESULTS_DIR == /* ]] || RESULTS_DIR=$REPO_ROOT/$RESULTS_DIR
RESULT_MD="$RESULTS_DIR/cluster-$STAMP.md"
RAW_DIR="$RESULTS_DIR/raw/cluster-$STAMP"
mkdir -p "$RAW_DIR"

# ---------------------------------------------------------------------------------------------
# Cluster lifecycle: a state directory of our own; only the cluster started here is stopped.
# ---------------------------------------------------------------------------------------------

export HALLPASS_CLUSTER_DIR=/tmp/hallpass-cluster-bench-$STAMP
CLUSTER_STARTED=no
TMP=""
WRK_PID=""

stop_cluster() {
	[[ $CLUSTER_STARTED == yes ]] || return 0
	[[ -d $HALLPASS_CLUSTER_DIR/logs ]] && cp -r "$HALLPASS_CLUSTER_DIR/logs" "$RAW_DIR/cluster-logs" 2>/dev/null
	deploy/cluster.sh stop >>"$RAW_DIR/cluster.log" 2>&1 || log "warning: deploy/cluster.sh stop failed (see $RAW_DIR/cluster.log)"
	CLUSTER_STARTED=no
	log "cluster stopped"
}

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	[[ -n $WRK_PID ]] && stop_pid "$WRK_PID" 5
	stop_cluster
	[[ -n $TMP && -d $TMP ]] && rm -rf -- "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hallpass-cluster-bench.XXXXXX")
chmod 700 "$TMP" # it holds live tokens

LOAD_START=$(uptime | sed 's/.*load average: //')
log "starting the cluster (deploy/cluster.sh start, HALLPASS_BIN=$BIN, state $HALLPASS_CLUSTER_DIR)"
CLUSTER_STARTED=yes # from here on, cleanup runs `deploy/cluster.sh stop` (harmless if start failed)
HALLPASS_BIN=$BIN PG_URL=$PG_URL deploy/cluster.sh start >>"$RAW_DIR/cluster.log" 2>&1 ||
	{ tail -n 30 "$RAW_DIR/cluster.log" >&2; die "deploy/cluster.sh start failed"; }
CL_ENV=$(deploy/cluster.sh env)
SCHEMA=$(sed -n 's/^SCHEMA=//p' <<<"$CL_ENV")
PG_BASE_URL=$(sed -n 's/^PG_BASE_URL=//p' <<<"$CL_ENV")
[[ $SCHEMA =~ ^[a-z0-9_]+$ ]] || die "unexpected schema name '$SCHEMA'"
log "cluster up; schema $SCHEMA"

pg() { # pg SQL: one statement in the cluster's schema
	PGOPTIONS="--client-min-messages=warning -c search_path=$SCHEMA" PGCONNECT_TIMEOUT=10 \
		timeout -k 5 "$PSQL_TIMEOUT_S" psql -X -w -q -At -v ON_ERROR_STOP=1 -d "$PG_BASE_URL" -c "$1" </dev/null
}
PG_VERSION=$(pg 'SHOW server_version')
pg '\d sessions' >"$RAW_DIR/sessions-table.txt" 2>&1 || true
pg "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = '$SCHEMA' AND table_name = 'sessions' ORDER BY ordinal_position" >>"$RAW_DIR/sessions-table.txt"

# ---------------------------------------------------------------------------------------------
# Users, cookie, tokens
# ---------------------------------------------------------------------------------------------

post_json() { # post_json URL JSON HEADERS_OUT BODY_OUT -> status code
	curl -s --max-time 30 -o "$4" -D "$3" -w '%{http_code}' \
		-H 'Content-Type: application/json' -H 'Accept: application/json' \
		--data-binary "$2" "$1" || echo "curl-failed"
}
signup() {
	local code
	code=$(post_json "$NGINX_URL/v1/signup" "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}" "$TMP/h" "$TMP/b")
	[[ $code == 201 ]] || die "POST /v1/signup $1 answered $code: $(head -c 500 "$TMP/b")"
}
signup "$USERNAME"
signup "$FILLER"
FILLER_ID=$(pg "SELECT id FROM users WHERE username = '$FILLER'")
[[ -n $FILLER_ID ]] || die "no users row for $FILLER"

code=$(post_json "$NGINX_URL/v1/login" "{\"username\":\"$USERNAME\",\"password\":\"$PASSWORD\"}" "$TMP/login.h" "$TMP/login.b")
[[ $code == 200 ]] || die "POST /v1/login answered $code: $(head -c 500 "$TMP/login.b")"
COOKIE=$(tr -d '\r' <"$TMP/login.h" | awk 'tolower($1) == "set-cookie:" && $2 ~ /^hallpass_session=/ { sub(/^[^:]*:[ \t]*/, ""); sub(/;.*/, ""); print; exit }')
COOKIE=${COOKIE#hallpass_session=}
[[ -n $COOKIE ]] || die "POST /v1/login set no hallpass_session cookie"

# Microsecond sanity check of the time columns (0001_initial.sql: unix microseconds).
CREATED=$(pg "SELECT max(created_at) FROM sessions")
NOW_US=$(($(date +%s) * 1000000))
((CREATED > NOW_US - 3600000000 && CREATED < NOW_US + 3600000000)) ||
	die "sessions.created_at ($CREATED) is not unix microseconds near now ($NOW_US); fix the insert"

# grants URL N PREFIX: N password grants at URL; refresh tokens to PREFIX-rt.txt; ACCESS_TOKEN from
# the first one.
grants() {
	local url=$1 n=$2 prefix=$3 i code
	: >"$prefix-rt.txt"
	for ((i = 1; i <= n; i++)); do
		code=$(post_json "$url/v1/token" "{\"grant_type\":\"password\",\"username\":\"$USERNAME\",\"password\":\"$PASSWORD\"}" "$TMP/h" "$TMP/b")
		[[ $code == 200 ]] || die "password grant $i at $url answered $code: $(head -c 300 "$TMP/b")"
		jq -e '.refresh_token | type == "string" and test("^hp_rt_")' "$TMP/b" >/dev/null || die "grant $i: no refresh_token"
		jq -r .refresh_token "$TMP/b" >>"$prefix-rt.txt"
		((i > 1)) || ACCESS_TOKEN=$(jq -r .access_token "$TMP/b")
	done
	[[ $(sort -u "$prefix-rt.txt" | wc -l) -eq $n ]] || die "$n grants did not give $n distinct refresh tokens"
}

check_200() { # check_200 WHAT URL CURL_ARGS...
	local what=$1 url=$2 code
	shift 2
	code=$(curl -s --max-time 10 -o "$TMP/c.b" -w '%{http_code}' "$@" "$url" || echo curl-failed)
	[[ $code == 200 ]] || die "$what ($url) answered $code: $(head -c 300 "$TMP/c.b")"
}

# ---------------------------------------------------------------------------------------------
# wrk
# ---------------------------------------------------------------------------------------------

WRK_VERSION=$(wrk -v 2>&1 | head -n 1 | sed 's/ Copyright.*//' || true)
WRK_COMMANDS=()
WARNINGS=()

# endpoint_args NAME -> sets EP_PATH, EP_ARGS, EP_SHOWN_ARGS, EP_LABEL
endpoint_args() {
	case $1 in
	healthz) EP_PATH=/healthz EP_ARGS=() EP_SHOWN_ARGS="" EP_LABEL="/healthz" ;;
	cookie) EP_PATH=/v1/me EP_ARGS=(-H "Cookie: hallpass_session=$COOKIE") EP_SHOWN_ARGS="-H 'Cookie: hallpass_session=hp_st_…' " EP_LABEL="/v1/me (cookie)" ;;
	bearer) EP_PATH=/v1/me EP_ARGS=(-H "Authorization: Bearer $ACCESS_TOKEN") EP_SHOWN_ARGS="-H 'Authorization: Bearer eyJ…' " EP_LABEL="/v1/me (Bearer)" ;;
	*) die "unknown endpoint $1" ;;
	esac
}

# measure BASE NAME THREADS CONNS WARM DUR RAWPREFIX -> R_rps R_p50 R_p99 R_non2xx R_serr R_tmo
measure() {
	local base=$1 name=$2 t=$3 c=$4 warm=$5 dur=$6 raw=$7 shown
	endpoint_args "$name"
	shown="wrk -t$t -c$c -d${dur}s --latency ${EP_SHOWN_ARGS}$base$EP_PATH"
	((warm == 0)) || shown+="   (after a ${warm}s warm-up run of the same, discarded)"
	note_cmd "$shown"
	if ((warm > 0)); then
		run_wrk "$raw-warmup.txt" "$warm" -t"$t" -c"$c" -d"${warm}s" --latency "${EP_ARGS[@]+"${EP_ARGS[@]}"}" "$base$EP_PATH"
	fi
	run_wrk "$raw.txt" "$dur" -t"$t" -c"$c" -d"${dur}s" --latency "${EP_ARGS[@]+"${EP_ARGS[@]}"}" "$base$EP_PATH"
	read -r R_rps R_p50 R_p99 R_non2xx R_serr R_tmo _ _ < <(parse_wrk "$raw.txt")
	log "  $EP_LABEL: $(fmt_rps "$R_rps") req/s, p50 $(fmt_ms "$R_p50"), p99 $(fmt_ms "$R_p99"), non-2xx $R_non2xx"
	((R_non2xx == 0)) || WARNINGS+=("$raw: $EP_LABEL: $R_non2xx responses with status ≥ 400")
	((R_serr + R_tmo == 0)) || WARNINGS+=("$raw: $EP_LABEL: $R_serr socket errors, $R_tmo timeouts")
}

# ---------------------------------------------------------------------------------------------
# Part 1: through nginx
# ---------------------------------------------------------------------------------------------

grants "$NGINX_URL" 1 "$TMP/nginx"
check_200 "cookie GET /v1/me through nginx" "$NGINX_URL/v1/me" -H "Cookie: hallpass_session=$COOKIE"
check_200 "Bearer GET /v1/me through nginx" "$NGINX_URL/v1/me" -H "Authorization: Bearer $ACCESS_TOKEN"
log "part 1: $ROUNDS rounds through nginx ($NGINX_URL), wrk -t$MAIN_THREADS -c$MAIN_CONNS"

P1_ROWS=()
declare -A P1_RPS=() P1_P50=() P1_P99=()
R_CB=() R_CH=() R_BH=()
for ((round = 1; round <= ROUNDS; round++)); do
	if ((round % 2)); then order=(healthz cookie bearer); else order=(bearer cookie healthz); fi
	declare -A this=()
	for name in "${order[@]}"; do
		log "round $round: $name"
		measure "$NGINX_URL" "$name" "$MAIN_THREADS" "$MAIN_CONNS" "$WARM_S" "$DUR_S" "$RAW_DIR/nginx-r$round-$name"
		this[$name]=$R_rps
		P1_RPS[$name]+="$R_rps " P1_P50[$name]+="$R_p50 " P1_P99[$name]+="$R_p99 "
		P1_ROWS+=("| $round | $EP_LABEL | $(fmt_rps "$R_rps") | $(fmt_ms "$R_p50") | $(fmt_ms "$R_p99") | $R_non2xx | $R_serr / $R_tmo |")
	done
	R_CB+=("$(fmt_ratio "${this[cookie]}" "${this[bearer]}")")
	R_CH+=("$(fmt_ratio "${this[cookie]}" "${this[healthz]}")")
	R_BH+=("$(fmt_ratio "${this[bearer]}" "${this[healthz]}")")
	P1_ROWS+=("| $round | ratios | cookie÷Bearer ${R_CB[-1]}, cookie÷healthz ${R_CH[-1]}, Bearer÷healthz ${R_BH[-1]} | | | | |")
	unset this
done
for name in healthz cookie bearer; do
	endpoint_args "$name"
	# shellcheck disable=SC2086
	P1_ROWS+=("| **median** | $EP_LABEL | **$(fmt_rps "$(median ${P1_RPS[$name]})")** | $(fmt_ms "$(median ${P1_P50[$name]})") | $(fmt_ms "$(median ${P1_P99[$name]})") | | |")
done
MED_CB=$(printf '%.2f' "$(median "${R_CB[@]}")")
MED_CH=$(printf '%.2f' "$(median "${R_CH[@]}")")
MED_BH=$(printf '%.2f' "$(median "${R_BH[@]}")")
log "part 1 medians: cookie÷Bearer $MED_CB, cookie÷healthz $MED_CH, Bearer÷healthz $MED_BH"

# ---------------------------------------------------------------------------------------------
# Part 2: store size, against node 1 directly
# ---------------------------------------------------------------------------------------------

P2_ROWS=()
SIZE_ROWS=()
declare -A P2_RPS=() P2_P50=() P2_P99=()
inserted=0
for size in "${SIZE_LIST[@]}"; do
	add=$((size - inserted))
	if ((add > 0)); then
		log "size $size: inserting $add sessions for $FILLER"
		t0=$(date +%s.%N)
		pg "INSERT INTO sessions (id, user_id, kind, token_hash, created_at, last_seen_at, absolute_expires_at, revoked_at)
			SELECT gen_random_uuid(), '$FILLER_ID', 'cookie',
				decode(md5(random()::text) || md5(random()::text), 'hex'),
				now_us - (g::bigint % 86400) * 1000000, now_us - (g::bigint % 3600) * 1000000, now_us + 30 * 86400 * 1000000::bigint, NULL
			FROM (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS now_us) t,
				generate_series(1, $add) AS g" >/dev/null
		pg "ANALYZE sessions" >/dev/null
		ins_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
		inserted=$size
	else
		ins_s=0
	fi
	count=$(pg "SELECT count(*) FROM sessions")
	tbl=$(pg "SELECT pg_size_pretty(pg_total_relation_size('sessions'))")
	log "size $size: sessions has $count rows ($tbl with indexes; insert ${ins_s}s)"
	# Fresh refresh chains (and access token) at each size: chains advance during a run.
	grants "$NODE1_URL" "$REFRESH_CLIENTS" "$TMP/s$size"
	check_200 "cookie GET /v1/me on node 1" "$NODE1_URL/v1/me" -H "Cookie: hallpass_session=$COOKIE"
	check_200 "Bearer GET /v1/me on node 1" "$NODE1_URL/v1/me" -H "Authorization: Bearer $ACCESS_TOKEN"
	count=$(pg "SELECT count(*) FROM sessions")
	SIZE_ROWS+=("| $size | $count | $tbl | $ins_s s |")
	for name in cookie bearer; do
		log "size $size: $name"
		measure "$NODE1_URL" "$name" "$STORE_THREADS" "$STORE_CONNS" "$SWARM_S" "$SDUR_S" "$RAW_DIR/store-$size-$name"
		P2_RPS["$size $name"]=$R_rps P2_P50["$size $name"]=$R_p50 P2_P99["$size $name"]=$R_p99
		P2_ROWS+=("| $size | $count | $EP_LABEL | $(fmt_rps "$R_rps") | $(fmt_ms "$R_p50") | $(fmt_ms "$R_p99") | $R_non2xx | $R_serr / $R_tmo |")
	done
	# Refresh rotations: one chain per connection per thread.
	raw=$RAW_DIR/store-$size-refresh.txt
	note_cmd "wrk -t$REFRESH_CLIENTS -c$REFRESH_CLIENTS -d${SDUR_S}s --latency -s bench/lua/refresh-chain.lua $NODE1_URL/v1/token -- \$TMP/s<size>-rt.txt   ($REFRESH_CLIENTS fresh refresh tokens per size, one chain per connection, no warm-up)"
	log "size $size: refresh, $REFRESH_CLIENTS chains"
	run_wrk "$raw" "$SDUR_S" -t"$REFRESH_CLIENTS" -c"$REFRESH_CLIENTS" -d"${SDUR_S}s" --latency -s "$CHAIN_LUA" "$NODE1_URL/v1/token" -- "$TMP/s$size-rt.txt"
	read -r _ p50 p99 _ serr tmo _ elapsed < <(parse_wrk "$raw")
	n200=$(awk '$1 == "STATUS" && $2 == 200 { print $3 }' "$raw")
	n200=${n200:-0}
	total=$(awk '$1 == "STATUS" { s += $3 } END { print s + 0 }' "$raw")
	nt=$(awk '$1 == "NOTOKEN" { print $2 }' "$raw")
	rp=$(awk '$1 == "REPEAT" { print $2 }' "$raw")
	rate=$(awk -v n="$n200" -v ms="$elapsed" 'BEGIN { if (ms == "NA" || ms == 0) print "NA"; else print n / (ms / 1000) }')
	P2_RPS["$size refresh"]=$rate P2_P50["$size refresh"]=$p50 P2_P99["$size refresh"]=$p99
	P2_ROWS+=("| $size | $count | refresh rotation (POST /v1/token) | $(fmt_rps "$rate") | $(fmt_ms "$p50") | $(fmt_ms "$p99") | $((total - n200)) | $serr / $tmo |")
	log "  refresh: $(fmt_rps "$rate")/s, p50 $(fmt_ms "$p50"), p99 $(fmt_ms "$p99"), non-200 $((total - n200)), no token/replays $nt/$rp"
	((total == n200)) || WARNINGS+=("size $size refresh: $((total - n200)) non-200 answers")
	[[ $nt == 0 && $rp == 0 ]] || WARNINGS+=("size $size refresh: $nt answers without a token, $rp replays: a chain broke")
	((serr + tmo == 0)) || WARNINGS+=("size $size refresh: $serr socket errors, $tmo timeouts")
done
LOAD_END=$(uptime | sed 's/.*load average: //')
FIRST=${SIZE_LIST[0]} LAST=${SIZE_LIST[-1]}

change() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || a == 0) print "NA"; else printf "%+.1f %%\n", (b - a) / a * 100 }'; }
within() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { if (a == "NA" || b == "NA" || a == 0) print "not measured"; else { d = (b - a) / a * 100; if (d < 0) d = -d; if (d <= t) print "**met**"; else print "**NOT met**" } }'; }
CHANGE_ROWS=()
for name in cookie bearer refresh; do
	a=${P2_RPS["$FIRST $name"]} b=${P2_RPS["$LAST $name"]}
	case $name in cookie) l="/v1/me (cookie)" ;; bearer) l="/v1/me (Bearer)" ;; refresh) l="refresh rotation" ;; esac
	CHANGE_ROWS+=("| $l | $(fmt_rps "$a") | $(fmt_rps "$b") | $(change "$a" "$b") | p99 $(fmt_ms "${P2_P99["$FIRST $name"]}") → $(fmt_ms "${P2_P99["$LAST $name"]}") | $(within "$a" "$b" 15) |")
done

# ---------------------------------------------------------------------------------------------
# Chart (plain SVG text)
# ---------------------------------------------------------------------------------------------

CHART_DATA=$TMP/chart.tsv
: >"$CHART_DATA"
for size in "${SIZE_LIST[@]}"; do
	printf '%s\t%s\t%s\t%s\n' "$size" "${P2_RPS["$size cookie"]}" "${P2_RPS["$size bearer"]}" "${P2_RPS["$size refresh"]}" >>"$CHART_DATA"
done
CHART_MD="$RESULTS_DIR/cluster-$STAMP.svg"
python3 - "$CHART_DATA" "$CHART_MD" "$STARTED_AT" <<'PY'
import sys
data, out, when = sys.argv[1], sys.argv[2], sys.argv[3]
rows = []
for line in open(data):
    f = line.split()
    rows.append((int(f[0]), [float(x) if x != "NA" else 0.0 for x in f[1:4]]))
names = ["GET /v1/me (cookie)", "GET /v1/me (Bearer)", "refresh rotation"]
colors = ["#4c72b0", "#55a868", "#c44e52"]
W, H, L, R, T, B = 720, 420, 70, 20, 50, 80
pw, ph = W - L - R, H - T - B
top = max(max(v) for _, v in rows) or 1
step = 1
while True:
    ok = [step * m for m in (1, 2, 5) if top / (step * m) <= 8]
    if ok:
        step = ok[0]
        break
    step *= 10
ymax = (int(top / step) + 1) * step
def lab(n):
    return f"{n // 1000000}M" if n >= 1000000 and n % 1000000 == 0 else (f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n))
s = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
     f'<rect width="{W}" height="{H}" fill="white"/>',
     f'<text x="{W/2}" y="22" text-anchor="middle" font-size="15">hallpass node 1: throughput vs extra sessions in PostgreSQL</text>',
     f'<text x="{W/2}" y="38" text-anchor="middle" fill="#555">wrk -t2 -c32 (/v1/me), -t32 -c32 (refresh); {when}; shared 2-core machine</text>']
y = 0
while y <= ymax + 1e-9:
    py = T + ph - y / ymax * ph
    s.append(f'<line x1="{L}" y1="{py:.1f}" x2="{L+pw}" y2="{py:.1f}" stroke="#ddd"/>')
    s.append(f'<text x="{L-6}" y="{py+4:.1f}" text-anchor="end">{y:,.0f}</text>')
    y += step
s.append(f'<text x="16" y="{T+ph/2}" text-anchor="middle" transform="rotate(-90 16 {T+ph/2})">requests (refreshes) per second</text>')
gw = pw / len(rows)
bw = gw * 0.8 / 3
for i, (n, vals) in enumerate(rows):
    gx = L + i * gw + gw * 0.1
    for j, v in enumerate(vals):
        x = gx + j * bw
        hgt = v / ymax * ph
        s.append(f'<rect x="{x:.1f}" y="{T+ph-hgt:.1f}" width="{bw-2:.1f}" height="{hgt:.1f}" fill="{colors[j]}"/>')
        s.append(f'<text x="{x+bw/2-1:.1f}" y="{T+ph-hgt-4:.1f}" text-anchor="middle" font-size="10">{v:,.0f}</text>')
    s.append(f'<text x="{L+i*gw+gw/2:.1f}" y="{T+ph+18}" text-anchor="middle">{lab(n)} extra sessions</text>')
s.append(f'<line x1="{L}" y1="{T+ph}" x2="{L+pw}" y2="{T+ph}" stroke="black"/>')
for j, nm in enumerate(names):
    x = L + j * 210
    s.append(f'<rect x="{x}" y="{H-28}" width="12" height="12" fill="{colors[j]}"/>')
    s.append(f'<text x="{x+18}" y="{H-18}">{nm}</text>')
s.append('</svg>')
open(out, "w").write("\n".join(s) + "\n")
PY
if [[ -n $CHART_OUT ]]; then
	[[ $CHART_OUT == /* ]] || CHART_OUT=$REPO_ROOT/$CHART_OUT
	cp "$CHART_MD" "$CHART_OUT"
	log "chart written to ${CHART_OUT#"$REPO_ROOT"/}"
fi

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

stop_cluster
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
GIT_REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ $GIT_REV != unknown ]] && ! git diff --quiet HEAD -- 2>/dev/null; then GIT_REV+=" (working tree modified)"; fi
BIN_BUILT=$(date -u -r "$BIN" +%Y-%m-%dT%H:%M:%SZ)
BIN_SHA=$(sha256sum "$BIN" | cut -c1-16)
verdict_ge() { awk -v v="$1" -v t="$2" 'BEGIN { if (v == "NA" || v == "") print "not measured"; else if (v + 0 >= t + 0) print "**met**"; else print "**NOT met**" }'; }

report() {
	cat <<EOF
# hallpass cluster benchmark, $STARTED_AT

- Command: \`$COMMAND_LINE\`
- Cluster: \`HALLPASS_BIN=$HALLPASS_BIN deploy/cluster.sh start\` (state in \`/tmp/hallpass-cluster-bench-<ts>\`): 3 nodes on
  127.0.0.1:18101–18103 behind nginx on 127.0.0.1:18443, PostgreSQL $PG_VERSION (system server, fresh schema),
  private Redis on 6390; rate limits off in the generated config (\`per_ip_per_minute = 0\`, \`account_failures_before_lockout = 0\`).
  Stopped with \`deploy/cluster.sh stop\` at the end (schema dropped).
- Binary: \`$HALLPASS_BIN\` (built $BIN_BUILT, sha256 $BIN_SHA…), repo at $GIT_REV
- Machine: $(nproc) CPUs, $CPU_MODEL; $(uname -sr). nginx, the 3 nodes, PostgreSQL, Redis and wrk share these cores.
- Load average (1, 5, 15 min): start $LOAD_START; end $LOAD_END
- wrk: $WRK_VERSION
- wrk commands:
$(for c in "${WRK_COMMANDS[@]}"; do printf '  - `%s`\n' "$c"; done)

## 1. Three nodes behind nginx

User \`$USERNAME\`: cookie from \`POST /v1/login\`, access token from a password grant, both through nginx.
wrk -t$MAIN_THREADS -c$MAIN_CONNS through nginx, ${WARM_S} s warm-up discarded, ${DUR_S} s measured; order
healthz, cookie, Bearer in odd rounds and reversed in even rounds. "non-2xx" = wrk's "Non-2xx or 3xx responses".

| round | endpoint | req/s | p50 | p99 | non-2xx | socket errors / timeouts |
|---|---|---|---|---|---|---|
$(printf '%s\n' "${P1_ROWS[@]}")

Median ratios over the rounds: cookie÷Bearer **$MED_CB**, cookie÷healthz $MED_CH, Bearer÷healthz $MED_BH.
Target cookie ≥ 0.9 × Bearer: $(verdict_ge "$MED_CB" 0.9).

## 2. Store size (node 1 directly, $NODE1_URL)

Extra sessions inserted with one \`INSERT … SELECT … FROM generate_series(1, N)\` into the cluster's schema,
all for one dummy user \`$FILLER\` (random \`id\` and 32-byte \`token_hash\`, kind \`cookie\`, times in unix µs,
expiring in 30 days), followed by \`ANALYZE sessions\`. Sizes are cumulative. At each size: $REFRESH_CLIENTS fresh
password grants at node 1 (their refresh tokens start the chains; the first one's access token is the Bearer),
then cookie and Bearer \`GET /v1/me\` (wrk -t$STORE_THREADS -c$STORE_CONNS, ${SWARM_S} s warm-up discarded,
${SDUR_S} s measured) and refresh rotations (wrk -t$REFRESH_CLIENTS -c$REFRESH_CLIENTS, ${SDUR_S} s, refreshes/s counts 200 answers).

Caveat: a node caches sessions, so steady-state cookie \`GET /v1/me\` never reaches PostgreSQL
(the session is looked up once, then served from memory), and Bearer \`GET /v1/me\` makes no database call at all.
Only the refresh rotation (a compare-and-set \`UPDATE\` on \`sessions\` by primary key) touches the grown table per request.

| extra sessions | \`count(*)\` | total size (table + indexes) | insert time |
|---|---|---|---|
$(printf '%s\n' "${SIZE_ROWS[@]}")

| extra sessions | \`count(*)\` | endpoint | req/s | p50 | p99 | non-2xx | socket errors / timeouts |
|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${P2_ROWS[@]}")

Change from $FIRST to $LAST extra sessions (target: within 15 %):

| endpoint | req/s at $FIRST | req/s at $LAST | change | p99 | within 15 % |
|---|---|---|---|---|---|
$(printf '%s\n' "${CHANGE_ROWS[@]}")

Chart: \`${CHART_OUT#"$REPO_ROOT"/}\` (copy: \`${CHART_MD#"$REPO_ROOT"/}\`).
EOF
	if ((${#WARNINGS[@]})); then
		printf '\n## Warnings\n\n'
		printf -- '- %s\n' "${WARNINGS[@]}"
	fi
	printf '\nRaw wrk outputs, the cluster logs and `\\d sessions`: `%s/` (not committed).\n' "${RAW_DIR#"$REPO_ROOT"/}"
}

report | tee "$RESULT_MD"
log "report written to ${RESULT_MD#"$REPO_ROOT"/}"
