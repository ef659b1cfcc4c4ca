#!/usr/bin/env bash
# Interop: a real hallpass server issues access tokens (EdDSA, ES256, RS256); npm `jose` and PyPI
# `PyJWT` verify them from the published JWKS alone, and both refuse a tampered one. Applying the
# revocation feed (docs/revocation-feed.md), both refuse a demoted administrator's and a deleted
# user's tokens issued before the change, and accept the demoted one's token refreshed after it.
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

PASSWORD='violet anchor trombone seven'
grant() { # url, username → token response JSON
    curl -fs "$1/v1/token" -H 'content-type: application/json' \
        -d "{\"grant_type\":\"password\",\"username\":\"$2\",\"password\":\"$PASSWORD\"}"
}
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
sub_of() { python3 -c 'import base64,json,sys; p=sys.argv[1].split(".")[1]; print(json.loads(base64.urlsafe_b64decode(p+"=="))["sub"])' "$1"; }

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
        -d "{\"username\":\"interop\",\"password\":\"$PASSWORD\"}" >/dev/null
    token=$(grant "$url" interop | field access_token)
    curl -fs "$url/.well-known/jwks.json" > "$dir/jwks.json"
    # Change one character of the payload: same length, still base64url, signature now wrong.
    tampered=$(python3 -c 'import sys; h,p,s=sys.argv[1].split("."); c="A" if p[5]!="A" else "B"; print(".".join([h,p[:5]+c+p[6:],s]))' "$token")
    check "jose verifies $alg" 0 node interop/verify.mjs "$dir/jwks.json" "$token" "$url" "$url"
    check "PyJWT verifies $alg" 0 python3 interop/verify.py "$dir/jwks.json" "$token" "$url" "$url"
    check "jose refuses tampered $alg" 1 node interop/verify.mjs "$dir/jwks.json" "$tampered" "$url" "$url"
    check "PyJWT refuses tampered $alg" 1 python3 interop/verify.py "$dir/jwks.json" "$tampered" "$url" "$url"
    check "jose refuses another audience" 1 node interop/verify.mjs "$dir/jwks.json" "$token" "$url" "https://other.example"
    check "PyJWT refuses another issuer" 1 python3 interop/verify.py "$dir/jwks.json" "$token" "https://other.example" "$url"
    # The revocation feed: root demotes boss and deletes interop.
    for admin in root boss; do
        echo "$PASSWORD" | HALLPASS_SECRET_KEY_FILE="$dir/hallpass.key" \
            "$BIN" user create "$admin" --role admin --database-url "$db" >/dev/null 2>&1
    done
    root=$(grant "$url" root | field access_token)
    boss_grant=$(grant "$url" boss)
    boss=$(echo "$boss_grant" | field access_token)
    curl -fs -X PATCH "$url/v1/admin/users/$(sub_of "$boss")" -H "authorization: Bearer $root" \
        -H 'content-type: application/json' -d '{"roles":[]}' >/dev/null
    curl -fs -X DELETE "$url/v1/admin/users/$(sub_of "$token")" -H "authorization: Bearer $root" >/dev/null
    curl -fs "$url/v1/revocations" > "$dir/feed.json"
    check "jose with the feed refuses a demoted admin's token" 1 node interop/verify.mjs "$dir/jwks.json" "$boss" "$url" "$url" "$dir/feed.json"
    check "PyJWT with the feed refuses a demoted admin's token" 1 python3 interop/verify.py "$dir/jwks.json" "$boss" "$url" "$url" "$dir/feed.json"
    check "jose with the feed refuses a deleted user's token" 1 node interop/verify.mjs "$dir/jwks.json" "$token" "$url" "$url" "$dir/feed.json"
    check "PyJWT with the feed refuses a deleted user's token" 1 python3 interop/verify.py "$dir/jwks.json" "$token" "$url" "$url" "$dir/feed.json"
    check "jose with the feed accepts an untouched admin's token" 0 node interop/verify.mjs "$dir/jwks.json" "$root" "$url" "$url" "$dir/feed.json"
    # Past the second of the change (iat counts whole seconds), a refresh mints a token with the
    # new roles that the feed does not refuse.
    sleep 1.1
    refreshed=$(curl -fs "$url/v1/token" -H 'content-type: application/json' \
        -d "{\"grant_type\":\"refresh_token\",\"refresh_token\":\"$(echo "$boss_grant" | field refresh_token)\"}" | field access_token)
    curl -fs "$url/v1/revocations" > "$dir/feed.json"
    check "jose with the feed accepts the demoted admin's refreshed token" 0 node interop/verify.mjs "$dir/jwks.json" "$refreshed" "$url" "$url" "$dir/feed.json"
    check "PyJWT with the feed accepts the demoted admin's refreshed token" 0 python3 interop/verify.py "$dir/jwks.json" "$refreshed" "$url" "$url" "$dir/feed.json"
    kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
    if [[ "$db" == postgres* ]]; then psql -q "$DB" -c "DROP SCHEMA IF EXISTS $schema CASCADE;" >/dev/null; fi
done
echo "interop: $passed passed, $failed failed"
[ "$failed" = 0 ]
