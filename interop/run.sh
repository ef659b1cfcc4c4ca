#!/usr/bin/env bash
# Interop: a real hallpass server issues access tokens (EdDSA, ES256, RS256); npm `jose` and PyPI
# `PyJWT` verify them from the published JWKS alone, and both refuse a tampered one.
# Usage: interop/run.sh [DATABASE_URL]   (default: SQLite in a temp dir)
# Needs: target/debug/hallpass (cargo build), interop/node_modules (npm ci), PyJWT (pip).
set -euo pipefail
cd "$(dirname "$0")/.."
export PGOPTIONS='--client-min-messages=warning'
BIN=${HALLPASS_BIN:-target/debug/hallpass}
PORT=${PORT:-18391}
DB=${1:-}
TMP=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

passed=0
failed=0
check() { # name, expected exit code, command...
    local name=$1 want=$2; shift 2
    local got=0
    "$@" > "$TMP/out" 2>&1 || got=$?
    if [ "$got" = "$want" ]; then passed=$((passed + 1)); echo "ok   $name: $(tail -1 "$TMP/out")"
    else failed=$((failed + 1)); echo "FAIL $name (exit $got, wanted $want):"; cat "$TMP/out"; fi
}

for alg in EdDSA ES256 RS256; do
    url="http://127.0.0.1:$PORT"
    dir="$TMP/$alg"; mkdir -p "$dir"
    db=${DB:-"sqlite://$dir/hallpass.db"}
    # A fresh PostgreSQL schema per algorithm, so the second server does not reuse the first's keys.
    if [[ "$db" == postgres* ]]; then
        schema="hp_interop_${alg,,}_$$"
        psql -q "$DB" -c "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema;" >/dev/null
        sep='?'; [[ "$DB" == *\?* ]] && sep='&'
        db="${DB}${sep}options=-c%20search_path%3D${schema}"
    fi
    HALLPASS_SIGNING_ALG=$alg HALLPASS_SECRET_KEY_FILE="$dir/hallpass.key" \
        "$BIN" serve --listen "127.0.0.1:$PORT" --public-url "$url" --database-url "$db" > "$dir/server.log" 2>&1 &
    PID=$!
    for _ in $(seq 1 100); do curl -fs "$url/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
    curl -fs "$url/v1/signup" -H 'content-type: application/json' \
        -d '{"username":"interop","password":"violet anchor trombone seven"}' >/dev/null
    token=$(curl -fs "$url/v1/token" -H 'content-type: application/json' \
        -d '{"grant_type":"password","username":"interop","password":"violet anchor trombone seven"}' \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
    curl -fs "$url/.well-known/jwks.json" > "$dir/jwks.json"
    # Change one character of the payload: same length, still base64url, signature now wrong.
    tampered=$(python3 -c 'import sys; h,p,s=sys.argv[1].split("."); c="A" if p[5]!="A" else "B"; print(".".join([h,p[:5]+c+p[6:],s]))' "$token")
    check "jose verifies $alg" 0 node interop/verify.mjs "$dir/jwks.json" "$token" "$url" "$url"
    check "PyJWT verifies $alg" 0 python3 interop/verify.py "$dir/jwks.json" "$token" "$url" "$url"
    check "jose refuses tampered $alg" 1 node interop/verify.mjs "$dir/jwks.json" "$tampered" "$url" "$url"
    check "PyJWT refuses tampered $alg" 1 python3 interop/verify.py "$dir/jwks.json" "$tampered" "$url" "$url"
    check "jose refuses another audience" 1 node interop/verify.mjs "$dir/jwks.json" "$token" "$url" "https://other.example"
    check "PyJWT refuses another issuer" 1 python3 interop/verify.py "$dir/jwks.json" "$token" "https://other.example" "$url"
    kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
    if [[ "$db" == postgres* ]]; then psql -q "$DB" -c "DROP SCHEMA IF EXISTS $schema CASCADE;" >/dev/null; fi
done
echo "interop: $passed passed, $failed failed"
[ "$failed" = 0 ]
