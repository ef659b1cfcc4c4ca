#!/usr/bin/env bash
# Fault check: a node under a low open-file limit stays reachable while one client holds
# hundreds of idle sockets (issue 11). Runs `hallpass serve` (the debug binary, built first) on a
# free loopback port under `ulimit -n 256` with a throwaway SQLite database, opens 600 idle
# sockets from 127.0.0.1, and checks that requests from 127.0.0.2 are answered within 1 s, that
# the excess was refused by the per-address cap, and that the log shows no "Too many open files".
#
#   deploy/faults/fd-flood.sh
#
# Loopback only; the check itself takes about 10 s and stops at 30 s whatever happens. Prints one
# line per check and finally "fd-flood: N passed, M failed"; exits 1 if any check failed.
# HALLPASS_BIN names a binary to use instead of building one.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FD_LIMIT=256
SOCKETS=600

PASSED=0
FAILED=0
TMP=
SERVER=

ok() {
	printf 'ok   %s\n' "$*"
	PASSED=$((PASSED + 1))
}
fail() {
	printf 'FAIL %s\n' "$*"
	FAILED=$((FAILED + 1))
}

cleanup() {
	local rc=$?
	if [[ -n $SERVER ]] && kill -0 "$SERVER" 2>/dev/null; then
		kill -TERM "$SERVER" 2>/dev/null
		for _ in $(seq 1 50); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$SERVER" 2>/dev/null
		wait "$SERVER" 2>/dev/null
	fi
	if ((FAILED)) && [[ -n $TMP && -f $TMP/hallpass.log ]]; then
		echo "--- last lines of the server log"
		tail -n 20 "$TMP/hallpass.log"
	fi
	[[ -n $TMP ]] && rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BIN=${HALLPASS_BIN:-}
if [[ -z $BIN ]]; then
	(cd "$ROOT" && cargo build -q -p hallpass-server) || { echo "fd-flood: build failed"; exit 1; }
	BIN=${CARGO_TARGET_DIR:-$ROOT/target}/debug/hallpass
	[[ $BIN = /* ]] || BIN=$ROOT/$BIN
fi
[[ -x $BIN ]] || { echo "fd-flood: no binary at $BIN"; exit 1; }

TMP=$(mktemp -d)
LOG=$TMP/hallpass.log
DEADLINE=$((SECONDS + 30))
# /metrics on the public listener needs the operator's token (docs/operations.md).
METRICS_TOKEN=fd-flood-metrics-token-0123456789abcdef
export METRICS_TOKEN

# `ulimit -n` sets the soft and the hard limit, so hallpass cannot raise its way out of it.
(
	cd "$TMP" || exit 1
	ulimit -n "$FD_LIMIT" || exit 1
	exec env NO_COLOR=1 HALLPASS_LISTEN=127.0.0.1:0 HALLPASS_METRICS_TOKEN="$METRICS_TOKEN" \
		HALLPASS_DATABASE_URL="sqlite://$TMP/hallpass.db" RUST_LOG=info "$BIN" serve
) >"$LOG" 2>&1 &
SERVER=$!

# The log without colour codes (the text format colours even into a file).
plain_log() { sed 's/\x1b\[[0-9;]*m//g' "$LOG"; }

ADDR=
while ((SECONDS < DEADLINE)) && kill -0 "$SERVER" 2>/dev/null; do
	ADDR=$(plain_log | grep -o 'hallpass is listening address=[0-9.:]*' | head -n 1 | sed 's/.*address=//')
	[[ -n $ADDR ]] && break
	sleep 0.1
done
if [[ -z $ADDR ]]; then
	fail "hallpass serve started under ulimit -n $FD_LIMIT"
	echo "fd-flood: $PASSED passed, $FAILED failed"
	exit 1
fi
ok "hallpass serve started under ulimit -n $FD_LIMIT on $ADDR"
if plain_log | grep -q "open-file limit soft=$FD_LIMIT hard=$FD_LIMIT"; then
	ok "the open-file limits are logged (soft=$FD_LIMIT hard=$FD_LIMIT)"
else
	fail "the open-file limits are logged (soft=$FD_LIMIT hard=$FD_LIMIT)"
fi

# The flood and the probes: one line per result, "name value".
RESULTS=$TMP/results
timeout $((DEADLINE - SECONDS)) python3 -u - "${ADDR##*:}" "$SOCKETS" >"$RESULTS" 2>"$TMP/python.err" <<'EOF'
import os, resource, select, socket, sys, time

port, count = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < count + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 64), hard))

flood = []
# A server that stops accepting lets the backlog fill, and connects then hang: give up on the
# flood after a few seconds rather than waiting for each.
give_up = time.monotonic() + 5
for _ in range(count):
    if time.monotonic() > give_up:
        break
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.5)
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        continue
    flood.append(s)
print("connected", len(flood))
time.sleep(1)

# Sockets the server closed read as EOF (or a reset); the rest are still held open.
closed = 0
readable, _, _ = select.select(flood, [], [], 0.5)
for s in readable:
    try:
        if s.recv(1) == b"":
            closed += 1
    except OSError:
        closed += 1
print("closed", closed)

def probe(path):
    started = time.monotonic()
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.settimeout(1)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(
            f"GET {path} HTTP/1.1\r\nHost: fd-flood\r\nConnection: close\r\n"
            f"Authorization: Bearer {os.environ['METRICS_TOKEN']}\r\n\r\n".encode()
        )
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        return None, time.monotonic() - started, b""
    finally:
        s.close()
    return data[9:12].decode(errors="replace"), time.monotonic() - started, data

worst, answered = 0.0, 0
for _ in range(5):
    status, took, _ = probe("/healthz")
    worst = max(worst, took)
    if status == "200" and took < 1:
        answered += 1
    time.sleep(0.2)
print("answered", answered)
print("worst_ms", int(worst * 1000))
status, _, body = probe("/metrics")
refused = 0
for line in body.decode(errors="replace").splitlines():
    if line.startswith('hallpass_refused_connections_total{reason="max_connections_per_ip"}'):
        refused = int(float(line.split()[-1]))
print("refused", refused)
for s in flood:
    s.close()
EOF
result() { awk -v k="$1" '$1 == k { print $2 }' "$RESULTS"; }
connected=$(result connected)
closed=$(result closed)
answered=$(result answered)
worst=$(result worst_ms)
refused=$(result refused)

if [[ -n $connected ]] && ((connected >= SOCKETS / 2)); then
	ok "$connected of $SOCKETS idle sockets opened from 127.0.0.1"
else
	fail "idle sockets opened from 127.0.0.1 (${connected:-none}; $(head -c 300 "$TMP/python.err"))"
fi
if [[ -n $closed ]] && ((closed > 0)); then
	ok "the server closed $closed of them at once (connection caps)"
else
	fail "the server closed the sockets past its caps (${closed:-no result})"
fi
if [[ $answered == 5 ]]; then
	ok "5 of 5 requests from 127.0.0.2 answered within 1 s (slowest ${worst} ms)"
else
	fail "requests from 127.0.0.2 answered within 1 s: ${answered:-0} of 5 (slowest ${worst:-?} ms)"
fi
if [[ -n $refused ]] && ((refused > 0)); then
	ok "hallpass_refused_connections_total{reason=\"max_connections_per_ip\"} is $refused"
else
	fail "the refusals are counted in hallpass_refused_connections_total (${refused:-no result})"
fi
if kill -0 "$SERVER" 2>/dev/null; then
	ok "the server is still running"
else
	fail "the server is still running"
fi
emfile=$(plain_log | grep -c "Too many open files")
if ((emfile == 0)); then
	ok "no \"Too many open files\" in the log"
else
	fail "\"Too many open files\" appears $emfile times in the log"
fi

echo "fd-flood: $PASSED passed, $FAILED failed"
((FAILED == 0))
