// Live session end: what open event streams cost the server, and how fast a revocation reaches
// the page it ends, with a baseline in the same run.
//
//   cargo build --release && node bench/session-events.mjs          # STREAMS=1000 by default
//   STREAMS=5000 REVOCATIONS=200 node bench/session-events.mjs
//
// One `hallpass serve` (release, SQLite, cheap argon2: logins are set-up here, not measured) and
// one client process (this script, Node's http module, one TCP connection per stream). Steps:
//   1. idle server: RSS;
//   2. baseline: one stream open, revoke its session from another session REVOCATIONS times
//      (a fresh session each time) and time DELETE /v1/sessions/{id} sent -> `ended` received;
//   3. STREAMS streams open (each its own session): RSS and RSS per stream, then the server's
//      CPU while they sit idle for IDLE_SECONDS (default 10);
//   4. the same revocations with all those streams listening (each stream watches its own
//      session, so the others should cost nothing but memory);
//   5. "log out other devices": STREAMS revocations in one request: time until every stream
//      heard `ended`, and the server's CPU for the whole request.
// Prints a Markdown report (also written to bench/results/events-<time>.md).

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const BIN = process.env.HALLPASS_BIN || join(ROOT, 'target/release/hallpass');
const PORT = Number(process.env.PORT || 18090);
const STREAMS = Number(process.env.STREAMS || 1000);
const REVOCATIONS = Number(process.env.REVOCATIONS || 100);
const IDLE_SECONDS = Number(process.env.IDLE_SECONDS || 10);
const BASE = `http://127.0.0.1:${PORT}`;
const PASSWORD = 'violet anchor trombone seven';

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function request(method, path, { body, headers = {}, stream = false } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(`${BASE}${path}`, {
      method,
      agent: stream ? false : agent,
      headers: {
        ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}),
        ...headers,
      },
    }, (res) => {
      if (stream) return resolve(res);
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

/** Reads the server's resident set size (KiB) and CPU time (clock ticks) from /proc. */
function serverUsage(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { rssKiB: rss, cpuTicks: Number(stat[11]) + Number(stat[12]) };
}

async function login() {
  const res = await request('POST', '/v1/login', { body: { username: 'bench', password: PASSWORD } });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${res.text}`);
  const cookie = res.headers['set-cookie'].find((c) => c.startsWith('hallpass_session=')).split(';')[0];
  const body = JSON.parse(res.text);
  return { cookie, csrf: body.csrf_token, id: body.session.id };
}

/** Opens a session event stream; resolves once `event: session` arrived. */
function openStream(session) {
  return new Promise((resolve, reject) => {
    request('GET', '/v1/session/events', { headers: { cookie: session.cookie }, stream: true }).then((res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream: ${res.statusCode}`));
      const watcher = { res, seen: '', ended: null, onEnded: null };
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        watcher.seen += chunk;
        if (!watcher.opened && watcher.seen.includes('event: session')) {
          watcher.opened = true;
          resolve(watcher);
        }
        if (watcher.ended === null && watcher.seen.includes('event: ended')) {
          watcher.ended = process.hrtime.bigint();
          watcher.onEnded?.();
        }
      });
      res.on('error', reject);
    }, reject);
  });
}

function ended(watcher) {
  return watcher.ended !== null ? Promise.resolve() : new Promise((resolve) => { watcher.onEnded = resolve; });
}

async function revokeTimed(admin) {
  const target = await login();
  const watcher = await openStream(target);
  const start = process.hrtime.bigint();
  const res = await request('DELETE', `/v1/sessions/${target.id}`, {
    headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
  });
  if (res.status !== 204) throw new Error(`revoke: ${res.status} ${res.text}`);
  await ended(watcher);
  watcher.res.destroy();
  return Number(watcher.ended - start) / 1e6;
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function summary(ms) {
  const s = [...ms].sort((a, b) => a - b);
  return { p50: quantile(s, 0.5), p99: quantile(s, 0.99), max: s[s.length - 1] };
}

async function revocations(admin) {
  const ms = [];
  for (let i = 0; i < REVOCATIONS; i += 1) ms.push(await revokeTimed(admin));
  return summary(ms);
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'hallpass-events-bench-'));
  const server = spawn(BIN, ['serve'], {
    env: {
      ...process.env,
      HALLPASS_LISTEN: `127.0.0.1:${PORT}`,
      HALLPASS_PUBLIC_URL: BASE,
      HALLPASS_DATABASE_URL: `sqlite://${dir}/hallpass.db`,
      HALLPASS_ARGON2_M_COST: '256',
      HALLPASS_ARGON2_T_COST: '1',
      HALLPASS_RATE_LIMIT_PER_IP_PER_MINUTE: '1000000',
      // Every stream here is a session of the one user "bench": lift the per-user cap (16) and
      // make room on the node for any STREAMS (a server without the caps ignores these).
      HALLPASS_MAX_EVENT_STREAMS_PER_USER: '0',
      HALLPASS_MAX_EVENT_STREAMS: String(Math.max(10000, STREAMS + 10)),
      HALLPASS_LOG_FORMAT: 'json',
      RUST_LOG: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (let i = 0; ; i += 1) {
      try {
        if ((await request('GET', '/healthz')).status === 200) break;
      } catch {
        if (i > 100) throw new Error('hallpass did not start');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const signup = await request('POST', '/v1/signup', { body: { username: 'bench', password: PASSWORD } });
    if (signup.status !== 201) throw new Error(`signup: ${signup.status} ${signup.text}`);
    const admin = await login();

    const idle = serverUsage(server.pid);
    const baseline = await revocations(admin);

    const sessions = [];
    for (let i = 0; i < STREAMS; i += 1) sessions.push(await login());
    const before = serverUsage(server.pid);
    const watchers = [];
    for (let i = 0; i < sessions.length; i += 100) {
      watchers.push(...(await Promise.all(sessions.slice(i, i + 100).map(openStream))));
    }
    const open = serverUsage(server.pid);
    // What open streams cost while nothing happens (keep-alives every 15 s, expiry checks).
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idleCpuMs = (serverUsage(server.pid).cpuTicks - open.cpuTicks) * 10;
    const loaded = await revocations(admin);

    // Log out everywhere: one revocation per session, every stream wakes for each.
    const cpuBefore = serverUsage(server.pid).cpuTicks;
    const start = process.hrtime.bigint();
    const res = await request('POST', '/v1/logout', {
      body: { scope: 'others' },
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
    });
    if (res.status !== 200) throw new Error(`logout others: ${res.status} ${res.text}`);
    const answeredMs = Number(process.hrtime.bigint() - start) / 1e6;
    await Promise.all(watchers.map(ended));
    const firstMs = Math.min(...watchers.map((w) => Number(w.ended - start) / 1e6));
    const allMs = Number(process.hrtime.bigint() - start) / 1e6;
    // Clock ticks are 10 ms; this phase is long enough for them to mean something.
    const allCpuMs = (serverUsage(server.pid).cpuTicks - cpuBefore) * 10;
    for (const w of watchers) w.res.destroy();

    const perStreamKiB = (open.rssKiB - before.rssKiB) / STREAMS;
    const f = (x) => x.toFixed(2);
    const report = `# Session event streams (${new Date().toISOString()})

Command: \`STREAMS=${STREAMS} REVOCATIONS=${REVOCATIONS} node bench/session-events.mjs\` (release build, SQLite, one client process on loopback).

| | idle | ${STREAMS} open streams |
|---|---|---|
| server RSS | ${(idle.rssKiB / 1024).toFixed(1)} MiB | ${(open.rssKiB / 1024).toFixed(1)} MiB (${perStreamKiB.toFixed(1)} KiB per stream; ${(before.rssKiB / 1024).toFixed(1)} MiB before opening them) |

With the ${STREAMS} streams open and nothing happening for ${IDLE_SECONDS} s, the server spent ${idleCpuMs} ms of CPU (10 ms clock ticks).

Revocation (\`DELETE /v1/sessions/{id}\` sent) to \`event: ended\` received by that session's stream, ${REVOCATIONS} revocations each:

| other streams open | p50 | p99 | max |
|---|---|---|---|
| 0 (baseline) | ${f(baseline.p50)} ms | ${f(baseline.p99)} ms | ${f(baseline.max)} ms |
| ${STREAMS} | ${f(loaded.p50)} ms | ${f(loaded.p99)} ms | ${f(loaded.max)} ms |

"Log out other devices" ending all ${STREAMS} sessions in one request: the request was answered after ${f(answeredMs)} ms, the first stream heard \`ended\` after ${f(firstMs)} ms and the last after ${f(allMs)} ms; the server spent ${allCpuMs} ms of CPU on the whole request.
`;
    process.stdout.write(report);
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
    writeFileSync(join(ROOT, `bench/results/events-${stamp}.md`), report);
  } finally {
    server.kill('SIGTERM');
    agent.destroy();
  }
}

await main();
