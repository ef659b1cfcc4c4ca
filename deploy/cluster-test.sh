#!/usr/bin/env bash
# shellcheck disable=SC2016 # bash -c '...' ARGS: the inner shell expands them, on purpose
# End-to-end checks of a hallpass cluster started by deploy/cluster.sh: sessions and tokens on
# every node, revocation across nodes, nginx forward auth, failover when a node dies, concurrent
# refreshes on two nodes, a refresh chain alternating nodes, Redis down and back, PostgreSQL restart (private PostgreSQL only).
#
#   deploy/cluster-test.sh [--system-redis] [--private-postgres]
#
# With a cluster running (deploy/cluster.sh start), it tests that one (the options are ignored).
# Otherwise it starts one with the options given and stops it when it exits.
# Prints one line per check (ok / FAIL / skip) and finally "cluster: N passed, M failed";
# exits 1 if any check failed. Uses HALLPASS_CLUSTER_DIR like cluster.sh.
set -uo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLUSTER=$SCRIPT_DIR/cluster.sh
STATE_DIR=${HALLPASS_CLUSTER_DIR:-/tmp/hallpass-cluster}
LOG_DIR=$STATE_DIR/logs
PASSWORD="violet anchor trombone seven"
PAGE_TEXT="Only logged-in users see this page"

PASSED=0
FAILED=0
STARTED=0
TMP=

ok() {
	printf 'ok   %s\n' "$*"
	PASSED=$((PASSED + 1))
}
fail() {
	printf 'FAIL %s\n' "$*"
	FAILED=$((FAILED + 1))
}
skip() { printf 'skip %s\n' "$*"; }
# check DESCRIPTION COMMAND...: ok if the command succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else fail "$desc"; fi
}
note() { printf '     %s\n' "$*"; }

now_ms() { date +%s%3N; }

cleanup() {
	local rc=$?
	if ((STARTED)); then
		if ((FAILED)); then
			"$CLUSTER" stop --keep-logs >/dev/null 2>&1 || true
			echo "(logs kept in $STATE_DIR/logs)"
		else
			"$CLUSTER" stop >/dev/null 2>&1 || true
		fi
	fi
	[[ -n $TMP ]] && rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# HTTP helpers. Every curl has --max-time.
# ---------------------------------------------------------------------------------------------

# code URL [curl args...]: the status code (000 if no answer).
code() {
	local url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" 2>/dev/null || true
}

# fetch OUT URL [curl args...]: body into OUT, prints the status code.
fetch() {
	local out=$1 url=$2
	shift 2
	curl -s -o "$out" -w '%{http_code}' --max-time 10 "$@" "$url" 2>/dev/null || true
}

# login BASE JAR OUT: logs USER in at BASE, the cookie into JAR, the body into OUT; prints code.
login() {
	fetch "$3" "$1/v1/login" -c "$2" -H 'content-type: application/json' \
		-d "$(jq -cn --arg u "$USER_NAME" --arg p "$PASSWORD" '{username: $u, password: $p}')"
}

# token_grant BASE OUT: password grant at BASE, the body into OUT; prints code.
token_grant() {
	fetch "$2" "$1/v1/token" -H 'content-type: application/json' \
		-d "$(jq -cn --arg u "$USER_NAME" --arg p "$PASSWORD" '{grant_type: "password", username: $u, password: $p}')"
}

bearer() { printf 'Authorization: Bearer %s' "$1"; }

# wait_code WANT START_MS LIMIT_MS URL [curl args...]: polls URL every 50 ms until it answers
# WANT, at most until START_MS + LIMIT_MS (an answer that comes later does not count). Sets
# WAITED_MS (since START_MS, when the answer arrived) and LAST_CODE.
wait_code() {
	local want=$1 start=$2 limit=$3 url=$4
	shift 4
	local deadline=$((start + limit)) i
	for ((i = 0; i < 1000; i++)); do
		LAST_CODE=$(code "$url" --max-time 1 "$@")
		WAITED_MS=$(($(now_ms) - start))
		((WAITED_MS <= limit)) || return 1
		[[ $LAST_CODE == "$want" ]] && return 0
		(($(now_ms) < deadline)) || return 1
		sleep 0.05
	done
	return 1
}

# wait_not_code CODE ...: like wait_code, until the answer is anything but CODE (and not 000).
wait_not_code() {
	local unwanted=$1 start=$2 limit=$3 url=$4
	shift 4
	local deadline=$((start + limit)) i
	for ((i = 0; i < 1000; i++)); do
		LAST_CODE=$(code "$url" --max-time 1 "$@")
		WAITED_MS=$(($(now_ms) - start))
		((WAITED_MS <= limit)) || return 1
		[[ $LAST_CODE != "$unwanted" && $LAST_CODE != 000 ]] && return 0
		(($(now_ms) < deadline)) || return 1
		sleep 0.05
	done
	return 1
}

# expect_revoked WHAT LIMIT_MS START_MS NODE_NUMBERS... -- curl args: each node must answer
# /v1/me 401 within LIMIT_MS of START_MS.
expect_revoked() {
	local what=$1 limit=$2 start=$3
	shift 3
	local nodes=()
	while [[ $1 != -- ]]; do
		nodes+=("$1")
		shift
	done
	shift
	local n
	for n in "${nodes[@]}"; do
		if wait_code 401 "$start" "$limit" "${NODE_URL[n]}/v1/me" "$@"; then
			ok "$what: node $n answers 401 after ${WAITED_MS} ms (limit ${limit} ms)"
		else
			fail "$what: node $n answers $LAST_CODE after ${WAITED_MS} ms (limit ${limit} ms)"
		fi
	done
}

# ---------------------------------------------------------------------------------------------
# The cluster
# ---------------------------------------------------------------------------------------------

for tool in curl jq redis-cli xargs; do
	command -v "$tool" >/dev/null || {
		echo "cluster-test: $tool not found" >&2
		exit 2
	}
done

if [[ -f $STATE_DIR/cluster.env ]] && "$CLUSTER" status >/dev/null 2>&1; then
	echo "testing the running cluster in $STATE_DIR"
else
	if [[ -f $STATE_DIR/cluster.env ]]; then
		status=$("$CLUSTER" status 2>&1 || true)
		if grep -q ' running$' <<<"$status"; then
			# Some of it runs: someone may be using it, so leave it to them.
			printf '%s\n' "$status" >&2
			echo "cluster-test: $STATE_DIR holds a cluster that is not healthy; run '$CLUSTER stop' first" >&2
			exit 2
		fi
		# Nothing of it runs (the machine restarted under it): clear what it left and start afresh.
		echo "cluster-test: clearing a cluster in $STATE_DIR none of whose processes runs"
		"$CLUSTER" stop >/dev/null
	fi
	echo "starting a cluster: $CLUSTER start $*"
	STARTED=1
	if ! out=$("$CLUSTER" start "$@" 2>&1); then
		printf '%s\n' "$out" >&2
		echo "cluster-test: the cluster did not start" >&2
		exit 2
	fi
fi
# shellcheck source=/dev/null
source "$STATE_DIR/cluster.env"

TMP=$(mktemp -d /tmp/hallpass-cluster-test.XXXXXX)
NGINX=$PUBLIC_URL
read -r -a PORTS <<<"$NODE_PORTS"
declare -a NODE_URL
for i in 1 2 3; do NODE_URL[i]=http://127.0.0.1:${PORTS[i - 1]}; done
USER_NAME=ct_$(date +%s)_$RANDOM

# reconcile_interval as milliseconds ("2s", "500ms", "1m").
to_ms() {
	local v=$1
	case $v in
	*ms) echo "${v%ms}" ;;
	*s) echo $((${v%s} * 1000)) ;;
	*m) echo $((${v%m} * 60000)) ;;
	*) echo $((v * 1000)) ;;
	esac
}
RECONCILE_MS=$(to_ms "$RECONCILE_INTERVAL")

echo "setup: nginx $NGINX, nodes ${NODE_URL[*]:1}, PostgreSQL $PG_MODE, Redis $REDIS_MODE, reconcile_interval $RECONCILE_INTERVAL, user $USER_NAME"

# ---------------------------------------------------------------------------------------------
# a. One session, every node
# ---------------------------------------------------------------------------------------------

c=$(fetch "$TMP/signup.json" "$NGINX/v1/signup" -H 'content-type: application/json' \
	-d "$(jq -cn --arg u "$USER_NAME" --arg p "$PASSWORD" '{username: $u, password: $p}')")
check "a. signup through nginx: 201 (got $c)" test "$c" = 201

c=$(login "$NGINX" "$TMP/jar1" "$TMP/login1.json")
CSRF1=$(jq -r '.csrf_token // empty' "$TMP/login1.json" 2>/dev/null)
check "a. login through nginx: 200 with a hallpass_session cookie and a CSRF token (got $c)" \
	bash -c '[[ $0 == 200 && -n $1 ]] && grep -q "hallpass_session	hp_st_" "$2"' "$c" "$CSRF1" "$TMP/jar1"

for n in 1 2 3; do
	c=$(fetch "$TMP/me.json" "${NODE_URL[n]}/v1/me" -b "$TMP/jar1")
	who=$(jq -r '.user.username // empty' "$TMP/me.json" 2>/dev/null)
	check "a. the nginx login's cookie on node $n: GET /v1/me $c as '$who'" \
		test "$c:$who" = "200:$USER_NAME"
done

# An access token from each node, checked on every node (node 1's on node 3 among them).
declare -a ACCESS
for n in 1 2 3; do
	c=$(token_grant "${NODE_URL[n]}" "$TMP/token$n.json")
	ACCESS[n]=$(jq -r '.access_token // empty' "$TMP/token$n.json" 2>/dev/null)
	kid=$(cut -d. -f1 <<<"${ACCESS[n]}" | tr '_-' '/+' | base64 -d 2>/dev/null | jq -r '.kid // empty' 2>/dev/null)
	codes=$(for m in 1 2 3; do code "${NODE_URL[m]}/v1/me" -H "$(bearer "${ACCESS[n]}")"; echo; done | tr '\n' ' ')
	check "a. password grant on node $n ($c, key ${kid:-?}): GET /v1/me with its token on nodes 1 2 3: ${codes% }" \
		test "$c $codes" = "200 200 200 200 "
done
ACCESS1=${ACCESS[1]}

# ---------------------------------------------------------------------------------------------
# b. Revocation on node 2 reaches nodes 1 and 3 within 1 s
# ---------------------------------------------------------------------------------------------

# Nodes 1 and 3 have verified the token (or do now), so they answer from memory until told.
code "${NODE_URL[1]}/v1/me" -H "$(bearer "$ACCESS1")" >/dev/null
start=$(now_ms)
c=$(code "${NODE_URL[2]}/v1/logout" -X POST -H "$(bearer "$ACCESS1")")
check "b. Bearer logout on node 2: 200 (got $c)" test "$c" = 200
expect_revoked "b. revoked access token" 1000 "$start" 1 3 -- -H "$(bearer "$ACCESS1")"

c=$(login "$NGINX" "$TMP/jar2" "$TMP/login2.json")
CSRF2=$(jq -r '.csrf_token // empty' "$TMP/login2.json" 2>/dev/null)
c1=$(code "${NODE_URL[1]}/v1/me" -b "$TMP/jar2")
c3=$(code "${NODE_URL[3]}/v1/me" -b "$TMP/jar2")
check "b. second session (login $c) works on nodes 1 and 3 ($c1, $c3)" test "$c:$c1:$c3" = 200:200:200
c=$(code "${NODE_URL[2]}/v1/logout" -X POST -b "$TMP/jar2")
check "b. cookie logout on node 2 without X-CSRF-Token is refused: $c" test "$c" = 403
start=$(now_ms)
c=$(code "${NODE_URL[2]}/v1/logout" -X POST -b "$TMP/jar2" -H "X-CSRF-Token: $CSRF2")
check "b. cookie logout on node 2 with X-CSRF-Token: 200 (got $c)" test "$c" = 200
expect_revoked "b. logged-out cookie" 1000 "$start" 1 3 -- -b "$TMP/jar2"

# ---------------------------------------------------------------------------------------------
# c. Forward auth: nginx serves /private/ only to logged-in users
# ---------------------------------------------------------------------------------------------

read -r c loc < <(curl -s -o /dev/null -w '%{http_code} %{redirect_url}\n' --max-time 5 "$NGINX/private/" || echo 000)
check "c. /private/ without a cookie: $c to ${loc:-nowhere}" \
	bash -c '[[ $0 == 302 && $1 == */login ]]' "$c" "${loc:-}"

c=$(login "$NGINX" "$TMP/jar3" "$TMP/login3.json")
CSRF3=$(jq -r '.csrf_token // empty' "$TMP/login3.json" 2>/dev/null)
c=$(fetch "$TMP/private.html" "$NGINX/private/" -b "$TMP/jar3" -D "$TMP/private.headers")
hdr=$(tr -d '\r' <"$TMP/private.headers" | awk -F': ' 'tolower($1) == "x-hallpass-username" {print $2}')
check "c. /private/ with the session cookie: $c, the page, X-Hallpass-Username '$hdr'" \
	bash -c '[[ $0 == 200 && $1 == "$2" ]] && grep -q "$3" "$4"' "$c" "$hdr" "$USER_NAME" "$PAGE_TEXT" "$TMP/private.html"

# A write to /private/ from another site with the cookie: nginx tells hallpass the method
# (X-Original-Method) and the browser's Sec-Fetch-Site reaches it, so the check answers 403.
# The same write from the page's own origin passes the check (nginx then answers 405: the
# location serves static files).
c=$(code "$NGINX/private/" -X POST -b "$TMP/jar3" -H "Sec-Fetch-Site: cross-site" -H "Origin: https://evil.test")
check "c. cross-site POST to /private/ with the cookie: 403 (got $c)" test "$c" = 403
c=$(code "$NGINX/private/" -X POST -b "$TMP/jar3" -H "Sec-Fetch-Site: same-origin")
check "c. same-origin POST to /private/ passes forward auth: 405 from nginx (got $c)" test "$c" = 405

# The same page for a Bearer token (nginx passes Authorization to /v1/auth/check).
token_grant "$NGINX" "$TMP/token_c.json" >/dev/null
ACCESS_C=$(jq -r '.access_token // empty' "$TMP/token_c.json" 2>/dev/null)
c=$(code "$NGINX/private/" -H "$(bearer "$ACCESS_C")")
check "c. /private/ with a Bearer token: $c" test "$c" = 200
code "$NGINX/v1/logout" -X POST -H "$(bearer "$ACCESS_C")" >/dev/null

start=$(now_ms)
c=$(code "$NGINX/v1/logout" -X POST -b "$TMP/jar3" -H "X-CSRF-Token: $CSRF3")
check "c. cookie logout through nginx: 200 (got $c)" test "$c" = 200
# The check may go to any node: allow the same 1 s as a revocation across nodes.
if wait_not_code 200 "$start" 1000 "$NGINX/private/" -b "$TMP/jar3"; then
	ok "c. /private/ after logout: $LAST_CODE after ${WAITED_MS} ms"
else
	fail "c. /private/ after logout: still $LAST_CODE after ${WAITED_MS} ms"
fi

# ---------------------------------------------------------------------------------------------
# d. Failover: SIGKILL node 2 under load, not one request fails
# ---------------------------------------------------------------------------------------------

REQUESTS=300
export D_JAR=$TMP/jar1 D_URL=$NGINX/v1/me
d_start=$(now_ms)
# 4 workers, each request preceded by a 60 ms pause: ~300 requests in ~6 s.
seq "$REQUESTS" | xargs -P4 -I{} bash -c \
	'sleep 0.06; curl -s -o /dev/null -w "%{http_code}\n" --max-time 5 -b "$D_JAR" "$D_URL" || echo 000' \
	>"$TMP/failover.codes" 2>/dev/null &
loop_pid=$!
sleep 2
killed_at=$(($(now_ms) - d_start))
"$CLUSTER" node-kill 2 2>/dev/null
wait "$loop_pid"
d_ms=$(($(now_ms) - d_start))
total=$(wc -l <"$TMP/failover.codes")
good=$(grep -c '^200$' "$TMP/failover.codes")
check "d. $total GETs /v1/me through nginx in ${d_ms} ms, node 2 SIGKILLed at ${killed_at} ms: $good answered 200" \
	test "$total:$good" = "$REQUESTS:$REQUESTS"
if [[ $good != "$REQUESTS" ]]; then
	note "answers: $(sort "$TMP/failover.codes" | uniq -c | tr -s ' \n' ' ')"
fi
# Did node 2 actually serve part of the loop before it died, and did nginx retry elsewhere?
retried=$(grep -c "GET /v1/me .*upstream=[^ ]*, " "$LOG_DIR/nginx-access.log" 2>/dev/null || true)
note "nginx retried ${retried:-0} requests on another node (upstream lists in $LOG_DIR/nginx-access.log)"

if "$CLUSTER" node-start 2 2>/dev/null; then
	c=$(code "${NODE_URL[2]}/v1/me" -b "$TMP/jar1")
	check "d. node 2 restarted with the same flags serves the same cookie: GET /v1/me $c" test "$c" = 200
else
	fail "d. node 2 did not start again (see $LOG_DIR/node2.log)"
fi

# ---------------------------------------------------------------------------------------------
# e. The same refresh token on nodes 1 and 3 at once
# ---------------------------------------------------------------------------------------------

c=$(token_grant "${NODE_URL[1]}" "$TMP/token_e.json")
REFRESH_E=$(jq -r '.refresh_token // empty' "$TMP/token_e.json" 2>/dev/null)
for n in 1 3; do
	curl -s -o "$TMP/refresh$n.json" -w '%{http_code}' --max-time 10 "${NODE_URL[n]}/v1/token" \
		-d grant_type=refresh_token --data-urlencode "refresh_token=$REFRESH_E" >"$TMP/refresh$n.code" 2>/dev/null &
done
wait
c1=$(cat "$TMP/refresh1.code")
c3=$(cat "$TMP/refresh3.code")
r1=$(jq -r '.refresh_token // empty' "$TMP/refresh1.json" 2>/dev/null)
r3=$(jq -r '.refresh_token // empty' "$TMP/refresh3.json" 2>/dev/null)
a1=$(jq -r '.access_token // empty' "$TMP/refresh1.json" 2>/dev/null)
a3=$(jq -r '.access_token // empty' "$TMP/refresh3.json" 2>/dev/null)
check "e. refresh on nodes 1 and 3 at once: $c1 and $c3" test "$c1:$c3" = 200:200
check "e. both got the same new refresh token" \
	bash -c '[[ -n $0 && $0 == "$1" && $0 != "$2" ]]' "$r1" "$r3" "$REFRESH_E"
if [[ $r1 != "$r3" ]]; then
	note "node 1: $(head -c 300 "$TMP/refresh1.json")"
	note "node 3: $(head -c 300 "$TMP/refresh3.json")"
fi
c1=$(code "${NODE_URL[2]}/v1/me" -H "$(bearer "$a1")")
c3=$(code "${NODE_URL[2]}/v1/me" -H "$(bearer "$a3")")
check "e. both new access tokens work (node 2: $c1, $c3)" test "$c1:$c3" = 200:200
c=$(fetch "$TMP/refresh_next.json" "${NODE_URL[2]}/v1/token" -d grant_type=refresh_token --data-urlencode "refresh_token=$r1")
a=$(jq -r '.access_token // empty' "$TMP/refresh_next.json" 2>/dev/null)
c2=$(code "$NGINX/v1/me" -H "$(bearer "$a")")
check "e. the session lives on: the new refresh token refreshes again ($c), its access token works ($c2)" \
	test "$c:$c2" = 200:200

# e2. A refresh chain through the balancer: a single-page app reloading behind round robin
# refreshes on node 1, 2, 3, 1, … within seconds; every refresh is answered, the session lives,
# and no node mistakes a newer generation than its cached copy for theft.
c=$(token_grant "${NODE_URL[1]}" "$TMP/token_e2.json")
chain=$(jq -r '.refresh_token // empty' "$TMP/token_e2.json" 2>/dev/null)
access=$(jq -r '.access_token // empty' "$TMP/token_e2.json" 2>/dev/null)
for n in 1 2 3; do code "${NODE_URL[n]}/v1/me" -H "$(bearer "$access")" >/dev/null; done
codes=""
for i in $(seq 0 11); do
	n=$((i % 3 + 1))
	c=$(fetch "$TMP/chain.json" "${NODE_URL[n]}/v1/token" -d grant_type=refresh_token --data-urlencode "refresh_token=$chain")
	codes="$codes $c"
	next=$(jq -r '.refresh_token // empty' "$TMP/chain.json" 2>/dev/null)
	access=$(jq -r '.access_token // empty' "$TMP/chain.json" 2>/dev/null)
	[[ -n $next ]] && chain=$next
done
c2=$(code "$NGINX/v1/me" -H "$(bearer "$access")")
bad=$(tr ' ' '\n' <<<"$codes" | grep -v '^$' | grep -vc '^200$' || true)
check "e2. 12 refreshes alternating nodes 1, 2, 3:${codes}; the last access token works ($c2)" \
	test "$bad:$c2" = "0:200"

# ---------------------------------------------------------------------------------------------
# f. Redis down, then back
# ---------------------------------------------------------------------------------------------

if [[ $REDIS_MODE != private ]]; then
	skip "Redis down (the cluster uses the system Redis, which is never stopped; start without --system-redis)"
else
	limit=$((RECONCILE_MS + 2000))
	# Before the outage: node 3 publishes a revocation (so its connection to Redis predates the
	# outage), carried by the bus within 1 s.
	token_grant "${NODE_URL[1]}" "$TMP/token_f0.json" >/dev/null
	ACCESS_F0=$(jq -r '.access_token // empty' "$TMP/token_f0.json" 2>/dev/null)
	for n in 1 2; do code "${NODE_URL[n]}/v1/me" -H "$(bearer "$ACCESS_F0")" >/dev/null; done
	start=$(now_ms)
	c=$(code "${NODE_URL[3]}/v1/logout" -X POST -H "$(bearer "$ACCESS_F0")")
	check "f. Redis up, Bearer logout on node 3: $c" test "$c" = 200
	expect_revoked "f. Redis up, node 3's revocation" 1000 "$start" 1 2 -- -H "$(bearer "$ACCESS_F0")"

	token_grant "${NODE_URL[1]}" "$TMP/token_f.json" >/dev/null
	ACCESS_F=$(jq -r '.access_token // empty' "$TMP/token_f.json" 2>/dev/null)
	c=$(code "${NODE_URL[3]}/v1/me" -H "$(bearer "$ACCESS_F")")
	check "f. a fresh access token works on node 3: $c" test "$c" = 200
	"$CLUSTER" redis-stop 2>/dev/null
	check "f. the cluster's Redis is stopped" bash -c '! redis-cli -h 127.0.0.1 -p "$0" PING >/dev/null 2>&1' "$REDIS_PORT"
	start=$(now_ms)
	c=$(code "${NODE_URL[1]}/v1/logout" -X POST -H "$(bearer "$ACCESS_F")")
	took=$(($(now_ms) - start))
	check "f. with Redis down, Bearer logout on node 1: $c in ${took} ms" test "$c" = 200
	expect_revoked "f. with Redis down, the revocation (via reconcile)" "$limit" "$start" 3 -- -H "$(bearer "$ACCESS_F")"

	"$CLUSTER" redis-start 2>/dev/null
	# Wait (bounded) until every node has subscribed again.
	start=$(now_ms)
	subs=0
	for ((i = 0; i < 200; i++)); do
		subs=$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" PUBSUB NUMSUB "$SCHEMA" 2>/dev/null | sed -n 2p)
		[[ ${subs:-0} -ge 3 ]] && break
		(($(now_ms) - start < 10000)) || break
		sleep 0.05
	done
	check "f. Redis back: ${subs:-0} nodes subscribed again after $(($(now_ms) - start)) ms" test "${subs:-0}" -ge 3

	# A new revocation on node 1 (which published while Redis was down) and one on node 3 (whose
	# connection to Redis predates the outage) each reach the other nodes within 1 s again.
	token_grant "${NODE_URL[1]}" "$TMP/token_g.json" >/dev/null
	ACCESS_G=$(jq -r '.access_token // empty' "$TMP/token_g.json" 2>/dev/null)
	token_grant "${NODE_URL[1]}" "$TMP/token_h.json" >/dev/null
	ACCESS_H=$(jq -r '.access_token // empty' "$TMP/token_h.json" 2>/dev/null)
	for n in 1 2 3; do
		code "${NODE_URL[n]}/v1/me" -H "$(bearer "$ACCESS_G")" >/dev/null
		code "${NODE_URL[n]}/v1/me" -H "$(bearer "$ACCESS_H")" >/dev/null
	done
	start=$(now_ms)
	c=$(code "${NODE_URL[1]}/v1/logout" -X POST -H "$(bearer "$ACCESS_G")")
	check "f. Redis back, Bearer logout on node 1: $c" test "$c" = 200
	expect_revoked "f. Redis back, node 1's revocation" 1000 "$start" 2 3 -- -H "$(bearer "$ACCESS_G")"
	start=$(now_ms)
	c=$(code "${NODE_URL[3]}/v1/logout" -X POST -H "$(bearer "$ACCESS_H")")
	check "f. Redis back, Bearer logout on node 3: $c" test "$c" = 200
	expect_revoked "f. Redis back, node 3's revocation" 1000 "$start" 1 2 -- -H "$(bearer "$ACCESS_H")"
fi

# ---------------------------------------------------------------------------------------------
# g. PostgreSQL restart (private PostgreSQL only)
# ---------------------------------------------------------------------------------------------

if [[ $PG_MODE != private ]]; then
	skip "PostgreSQL restart (use --private-postgres)"
else
	if "$CLUSTER" pg-restart 2>/dev/null; then
		ok "g. private PostgreSQL restarted (pg_ctl restart -m fast)"
	else
		fail "g. private PostgreSQL did not restart (see $LOG_DIR/postgres.log)"
	fi
	start=$(now_ms)
	for n in 1 2 3; do
		if wait_code 200 "$start" 10000 "${NODE_URL[n]}/readyz" &&
			wait_code 200 "$start" 10000 "${NODE_URL[n]}/v1/me" -b "$TMP/jar1"; then
			ok "g. node $n: /readyz and /v1/me 200, ${WAITED_MS} ms after the restart"
		else
			fail "g. node $n: still $LAST_CODE ${WAITED_MS} ms after the restart"
		fi
	done
	# Something that needs the database on every node: a login (a new session row) on each.
	for n in 1 2 3; do
		if wait_code 200 "$start" 10000 "${NODE_URL[n]}/v1/login" -H 'content-type: application/json' \
			-d "$(jq -cn --arg u "$USER_NAME" --arg p "$PASSWORD" '{username: $u, password: $p}')"; then
			ok "g. node $n: login (writes to PostgreSQL) 200, ${WAITED_MS} ms after the restart"
		else
			fail "g. node $n: login still $LAST_CODE ${WAITED_MS} ms after the restart"
		fi
	done
fi

echo "cluster: $PASSED passed, $FAILED failed"
((FAILED == 0))
