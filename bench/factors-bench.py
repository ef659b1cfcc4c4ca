#!/usr/bin/env python3
"""The cost of the second step (issue 15): complete logins of accounts without a factor
(`POST /v1/login`, password) against accounts with an authenticator app (`POST /v1/login` ->
401 mfa_required, then `POST /v1/login/mfa` with a code), side by side in one run on one
release server with the production argon2 cost, interleaved user by user so both see the same
machine. Codes come from this script's own RFC 6238 implementation (hmac, hashlib).

    cargo build --release -p hallpass-server
    python3 bench/factors-bench.py            # USERS=200 CLIENTS=4 PORT=18095 HALLPASS_BIN=...

Each account with a factor logs in once in the measured part: a TOTP code is accepted once per
time step, so every measured login needs its own account (or its own step).
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

USERS = int(os.environ.get("USERS", "200"))
CLIENTS = int(os.environ.get("CLIENTS", "4"))
PORT = int(os.environ.get("PORT", "18095"))
BIN = os.environ.get("HALLPASS_BIN", "target/release/hallpass")
PASSWORD = "violet anchor trombone seven"


def totp(secret_b32, unix):
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(unix // 30)), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = (struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{number:06d}"


class Client:
    """One keep-alive connection; the session cookie handled by hand."""

    def __init__(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)

    def post(self, path, body, cookie=None, csrf=None):
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if cookie:
            headers["Cookie"] = cookie
            headers["X-CSRF-Token"] = csrf
            headers["Sec-Fetch-Site"] = "same-origin"
        self.conn.request("POST", path, json.dumps(body), headers)
        response = self.conn.getresponse()
        data = response.read()
        cookie = None
        for name, value in response.getheaders():
            if name.lower() == "set-cookie" and value.startswith("hallpass_session="):
                cookie = value.split(";", 1)[0]
        return response.status, (json.loads(data) if data else None), cookie


def start_server(tmp):
    config = os.path.join(tmp, "bench.toml")
    with open(config, "w") as f:
        f.write("[rate_limit]\nper_ip_per_minute = 0\naccount_failures_before_lockout = 0\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HALLPASS_")}
    log = open(os.path.join(tmp, "server.log"), "w")
    server = subprocess.Popen(
        [BIN, "serve", "--config", config, "--listen", f"127.0.0.1:{PORT}",
         "--public-url", f"http://127.0.0.1:{PORT}", "--database-url", f"sqlite://{tmp}/hallpass.db"],
        cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    for _ in range(150):
        try:
            c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1)
            c.request("GET", "/readyz")
            if c.getresponse().status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.kill()
    sys.exit("the server did not become ready")


def prepare(client, name, with_factor):
    status, _, _ = client.post("/v1/signup", {"username": name, "password": PASSWORD})
    assert status == 201, (name, status)
    if not with_factor:
        return None
    status, body, cookie = client.post("/v1/login", {"username": name, "password": PASSWORD})
    assert status == 200, status
    csrf = body["csrf_token"]
    status, started, _ = client.post("/v1/factors/totp", {}, cookie, csrf)
    assert status == 201, (status, started)
    secret = started["secret"]
    status, _, _ = client.post("/v1/factors/totp/confirm", {"code": totp(secret, time.time())}, cookie, csrf)
    assert status == 200, status
    return secret


def login_plain(client, name):
    started = time.perf_counter()
    status, _, cookie = client.post("/v1/login", {"username": name, "password": PASSWORD})
    elapsed = time.perf_counter() - started
    assert status == 200 and cookie, status
    return elapsed


def login_mfa(client, name, secret):
    started = time.perf_counter()
    status, body, cookie = client.post("/v1/login", {"username": name, "password": PASSWORD})
    assert status == 401 and body["code"] == "mfa_required" and cookie is None, (status, body)
    # The next step's code: later than the one enrollment spent, inside the allowed skew.
    status, _, cookie = client.post("/v1/login/mfa", {"mfa_token": body["mfa_token"], "code": totp(secret, time.time() + 30)})
    elapsed = time.perf_counter() - started
    assert status == 200 and cookie, status
    return elapsed


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    if not shutil.which(BIN) and not os.path.exists(BIN):
        sys.exit(f"no hallpass binary at {BIN} (cargo build --release -p hallpass-server)")
    tmp = tempfile.mkdtemp(prefix="hallpass-factors-bench.")
    server = start_server(tmp)
    try:
        setup = Client()
        plain = [f"plain{i}" for i in range(USERS)]
        mfa = {f"mfa{i}": None for i in range(USERS)}
        for name in plain:
            prepare(setup, name, False)
        for name in mfa:
            mfa[name] = prepare(setup, name, True)
        results = {"plain": [], "mfa": []}
        lock = threading.Lock()
        work = list(zip(plain, mfa.items()))

        def run(part):
            client = Client()
            for i, (p, (m, secret)) in enumerate(part):
                order = [("plain", lambda: login_plain(client, p)), ("mfa", lambda: login_mfa(client, m, secret))]
                if i % 2:
                    order.reverse()
                for kind, go in order:
                    elapsed = go()
                    with lock:
                        results[kind].append(elapsed)

        threads = [threading.Thread(target=run, args=(work[i::CLIENTS],)) for i in range(CLIENTS)]
        wall = time.perf_counter()
        [t.start() for t in threads]
        [t.join() for t in threads]
        wall = time.perf_counter() - wall
        print(f"# Second-step cost, {USERS} accounts of each kind, {CLIENTS} concurrent clients, {wall:.1f} s")
        print()
        print("| complete login | logins | p50 | p90 | p99 | mean |")
        print("|---|---|---|---|---|---|")
        for kind, label in [("plain", "password alone (1 request)"), ("mfa", "password + TOTP (2 requests)")]:
            v = [x * 1000 for x in results[kind]]
            print(f"| {label} | {len(v)} | {pct(v, 50):.1f} ms | {pct(v, 90):.1f} ms | {pct(v, 99):.1f} ms | {statistics.mean(v):.1f} ms |")
        p = [x * 1000 for x in results["plain"]]
        m = [x * 1000 for x in results["mfa"]]
        print()
        print(f"Second step adds {pct(m, 50) - pct(p, 50):.1f} ms at p50, {pct(m, 99) - pct(p, 99):.1f} ms at p99.")
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
