// The end-to-end harness: a real `hallpass serve` on a free port with a throw-away SQLite
// database, tiny static servers for the second origins (the demo SPA, an attacker's pages),
// Debian's Chromium driven by playwright-core, and helpers that drive the real forms.
//
// Every origin is `http://localhost:PORT`: the same *site* as hallpass (cookies ignore ports, and
// SameSite=Lax cookies reach hallpass from a page on another port), but a different *origin*.
// So nothing but hallpass's own origin and CSRF-token checks stands between an attacker page and
// a victim's session: exactly what these tests want to see hold.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, it } from 'node:test';

import { chromium } from 'playwright-core';

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Where the committed screenshots go. */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../screenshots/', import.meta.url));
/** Where screenshots of failing tests go (not committed). */
export const FAILURE_DIR = join(SCREENSHOT_DIR, 'failures');

/** The hallpass binary: `HALLPASS_BIN`, else the debug build of the workspace. */
export function hallpassBinary() {
  return process.env.HALLPASS_BIN || join(REPO_ROOT, 'target', 'debug', 'hallpass');
}

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// ---------------------------------------------------------------------------------------------
// Small utilities

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export async function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createNetServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Polls `probe` until it returns a truthy value (which is returned) or `timeout` ms pass.
 * Exceptions thrown by `probe` count as "not yet"; the last one is reported on timeout.
 */
export async function waitFor(probe, { timeout = 5000, interval = 50, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  let lastError;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError ? ` (last error: ${lastError.message})` : ` (last value: ${JSON.stringify(last)})`;
      throw new Error(`timed out after ${timeout} ms waiting for ${message}${detail}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** A fresh username, unique across runs, accepted by hallpass's username rules. */
export function uniqueName(prefix = 'user') {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** A long, random passphrase no "common password" list contains. */
export function strongPassword() {
  return `Tall ${randomBytes(6).toString('hex')} lanterns drift`;
}

// ---------------------------------------------------------------------------------------------
// hallpass

function baseEnv() {
  // The server warns about every HALLPASS_* variable that names no setting (HALLPASS_BIN, say),
  // and a stray HALLPASS_* from the caller's shell must not change the server under test.
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('HALLPASS_')) env[k] = v;
  }
  env.RUST_LOG = process.env.E2E_RUST_LOG || 'info';
  env.NO_COLOR = '1';
  return env;
}

function runCommand(bin, args, { env, input, timeout = 30000 }) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(bin, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

/**
 * Starts `hallpass serve` on a free port with a fresh SQLite database in a temporary directory,
 * waits for `/healthz`, and creates the administrator `root` (password on stdin).
 *
 * `extraOrigins`: origins to list in HALLPASS_ALLOWED_ORIGINS besides the SPA origin, whose
 * port is `spaPort` (picked here when not given; start the SPA's static server on it).
 * `env`: more HALLPASS_* settings, which win over the defaults here.
 * `port`: hallpass's port (picked here when not given).
 * `provider`: `{ name = 'corp', displayName }` starts the test OpenID provider first (see
 * `startOidcProvider`), with hallpass's callback as its client's one redirect URI, and configures
 * hallpass to use it as `HALLPASS_PROVIDERS_<NAME>_*`; it is `hp.provider`, stopped with hallpass.
 */
export async function startHallpass({ env: extraEnv = {}, spaPort, extraOrigins = [], port, provider } = {}) {
  const bin = hallpassBinary();
  if (!existsSync(bin)) {
    throw new Error(`hallpass binary not found at ${bin}: run \`cargo build -p hallpass-server\` (or set HALLPASS_BIN)`);
  }
  // The port comes first: a provider's redirect URI names it.
  port ??= await freePort();
  spaPort ??= await freePort();
  let op = null;
  let providerEnv = {};
  if (provider) {
    const name = provider.name ?? 'corp';
    op = await startOidcProvider({ redirectUri: `http://localhost:${port}/v1/oauth/${name}/callback` });
    op.name = name;
    op.displayName = provider.displayName ?? null;
    const prefix = `HALLPASS_PROVIDERS_${name.toUpperCase()}_`;
    providerEnv = {
      [`${prefix}ISSUER`]: op.issuer,
      [`${prefix}CLIENT_ID`]: op.clientId,
      [`${prefix}CLIENT_SECRET`]: op.clientSecret,
      ...(op.displayName ? { [`${prefix}DISPLAY_NAME`]: op.displayName } : {}),
    };
  }
  const url = `http://localhost:${port}`;
  const spaOrigin = `http://localhost:${spaPort}`;
  const dir = mkdtempSync(join(tmpdir(), 'hallpass-e2e-'));
  const logPath = join(dir, 'server.log');
  const env = {
    ...baseEnv(),
    HALLPASS_LISTEN: `127.0.0.1:${port}`,
    HALLPASS_PUBLIC_URL: url,
    HALLPASS_DATABASE_URL: `sqlite://${join(dir, 'hallpass.db')}`,
    HALLPASS_RATE_LIMIT_PER_IP_PER_MINUTE: '10000',
    HALLPASS_ARGON2_M_COST: '1024',
    HALLPASS_ARGON2_T_COST: '1',
    HALLPASS_ALLOWED_ORIGINS: [spaOrigin, ...extraOrigins].join(','),
    ...providerEnv,
    ...extraEnv,
  };

  const logFd = openSync(logPath, 'a');
  const child = spawn(bin, ['serve'], { env, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  let exited = null;
  const exitPromise = new Promise((r) =>
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      r(exited);
    }),
  );
  child.on('error', (e) => (exited = { error: e }));

  const log = () => {
    try {
      return readFileSync(logPath, 'utf8');
    } catch {
      return '';
    }
  };
  const fail = async (why) => {
    if (!exited) {
      child.kill('SIGKILL');
      await exitPromise;
    }
    await op?.stop();
    throw new Error(`hallpass did not start: ${why}\n--- server log (${logPath}) ---\n${log()}`);
  };

  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`exited early: ${JSON.stringify(exited)}`);
        const res = await fetch(`${url}/healthz`);
        return res.ok;
      },
      { timeout: 30000, interval: 100, message: `${url}/healthz` },
    );
  } catch (error) {
    await fail(error.message);
  }

  const adminPassword = strongPassword();
  const created = await runCommand(bin, ['user', 'create', 'root', '--role', 'admin'], {
    env,
    input: `${adminPassword}\n`,
  });
  if (created.code !== 0) {
    await fail(`\`hallpass user create root --role admin\` failed (${created.code}): ${created.stderr}${created.stdout}`);
  }

  let stopped = false;
  return {
    url,
    origin: url,
    port,
    spaPort,
    spaOrigin,
    dir,
    env,
    logPath,
    adminUsername: 'root',
    adminPassword,
    /** The test OpenID provider (`startOidcProvider`, plus `name`, `displayName`), if asked for. */
    provider: op,
    /** The server's log so far. */
    log,
    /** The last `lines` lines of the server's log. */
    logTail(lines = 80) {
      return log().split('\n').slice(-lines).join('\n');
    },
    /** Runs a CLI subcommand against the same settings. */
    cli(args, input) {
      return runCommand(bin, args, { env, input });
    },
    async stop({ keep = false } = {}) {
      if (stopped) return;
      stopped = true;
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exitPromise;
        clearTimeout(timer);
      }
      await op?.stop();
      if (!keep && !process.env.E2E_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// A test OpenID provider (hallpass as the relying party)

/** The folder of the test provider (npm `oidc-provider`; `npm ci` there installs it). */
export const OIDC_PROVIDER_DIR = join(REPO_ROOT, 'crates', 'hallpass-server', 'tests', 'oidc-provider');

/**
 * Starts `crates/hallpass-server/tests/oidc-provider/provider.mjs` (a real npm `oidc-provider`
 * with its development login and consent pages: any login name, any password) on a free port of
 * 127.0.0.1, with one confidential client (`client_secret_basic`) whose only redirect URI is
 * `redirectUri`, and waits for its `READY <issuer>` line. The process watches its stdin, kept
 * open here, so it dies with the test process whatever happens; `stop()` ends it sooner.
 */
export async function startOidcProvider({ redirectUri, clientId = 'hallpass-e2e', clientSecret = `secret-${randomBytes(16).toString('hex')}`, timeout = 30000 }) {
  if (!redirectUri) throw new Error('startOidcProvider needs a redirectUri');
  const script = join(OIDC_PROVIDER_DIR, 'provider.mjs');
  if (!existsSync(join(OIDC_PROVIDER_DIR, 'node_modules', 'oidc-provider'))) {
    throw new Error(`the test OpenID provider is not installed: run \`npm ci\` in ${OIDC_PROVIDER_DIR} (e2e/run.sh does)`);
  }
  const client = { client_id: clientId, client_secret: clientSecret, redirect_uris: [redirectUri], token_endpoint_auth_method: 'basic' };
  const child = spawn(process.execPath, [script, '--port', '0', '--client', JSON.stringify(client)], {
    cwd: OIDC_PROVIDER_DIR,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (d) => (output += d));
  let exited = null;
  const exitPromise = new Promise((r) =>
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      r(exited);
    }),
  );

  let issuer;
  try {
    issuer = await new Promise((resolveReady, reject) => {
      let buffered = '';
      const timer = setTimeout(() => reject(new Error(`no READY line within ${timeout} ms`)), timeout);
      const done = (fn, value) => {
        clearTimeout(timer);
        fn(value);
      };
      child.on('error', (e) => done(reject, e));
      child.on('exit', (code, signal) => done(reject, new Error(`exited before READY (${code ?? signal})`)));
      child.stdout.on('data', (d) => {
        buffered += d;
        let nl;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line.startsWith('READY ')) done(resolveReady, line.slice('READY '.length).trim());
          else output += `${line}\n`;
        }
      });
    });
  } catch (error) {
    if (!exited) {
      child.kill('SIGKILL');
      await exitPromise;
    }
    throw new Error(`the test OpenID provider did not start: ${error.message}\n--- its output ---\n${output}`);
  }
  // (The stdout listener above keeps draining it after READY, so a stray write never blocks node.)

  let stopped = false;
  return {
    issuer,
    origin: new URL(issuer).origin,
    clientId,
    clientSecret,
    redirectUri,
    /** What the provider printed besides READY (oidc-provider's warnings, `server_error`s). */
    log: () => output,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (exited) return;
      child.stdin.end();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Static servers (the SPA's origin, the attacker's origin)

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.ts': 'text/plain; charset=utf-8',
};

/**
 * A static server on 127.0.0.1, reachable as `http://localhost:PORT`.
 *
 * `source` is a folder (served as files, `/` → `index.html`), or an object of in-memory routes
 * `{ '/path': '<html>' | { status, headers, body, type } }`, or a function
 * `(req, res, url) => route | undefined`. Every request is recorded in `requests`.
 */
export async function startStatic(source, { port } = {}) {
  port ??= await freePort();
  const requests = [];
  const root = typeof source === 'string' ? resolve(source) : null;

  const server = createHttpServer((req, res) => {
    const url = new URL(req.url, `http://localhost:${port}`);
    requests.push({ method: req.method, path: url.pathname, headers: req.headers });
    if (root) {
      let rel = decodeURIComponent(url.pathname);
      if (rel.endsWith('/')) rel += 'index.html';
      const file = normalize(join(root, rel));
      if (!file.startsWith(root + sep) && file !== root) {
        res.writeHead(403).end();
        return;
      }
      if (!existsSync(file) || !statSync(file).isFile()) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(200, {
        'content-type': MIME[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-store',
      });
      createReadStream(file).pipe(res);
      return;
    }
    let route = typeof source === 'function' ? source(req, res, url) : source[url.pathname];
    if (res.writableEnded) return;
    if (route === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if (typeof route === 'string') route = { body: route };
    res.writeHead(route.status ?? 200, {
      'content-type': route.type ?? 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      ...(route.headers ?? {}),
    });
    res.end(route.body ?? '');
  });
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((r, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', r);
  });
  return {
    port,
    url: `http://localhost:${port}`,
    origin: `http://localhost:${port}`,
    requests,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The browser

/** Debian's Chromium, headless, through playwright-core (never a downloaded browser). */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} not found: apt-get install -y chromium (never download a browser)`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** A fresh browser profile ("device"); motion reduced so focus styles are read without transitions. */
export async function newContext(browser, options = {}) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    reducedMotion: 'reduce',
    ...options,
  });
  context.setDefaultTimeout(10000);
  context.setDefaultNavigationTimeout(15000);
  return context;
}

// ---------------------------------------------------------------------------------------------
// Driving hallpass's pages

/** Signs a new user up through the `/signup` form; resolves on `/account`. */
export async function signUp(page, hp, { username = uniqueName(), password = strongPassword(), email } = {}) {
  await page.goto(`${hp.url}/signup`);
  await page.fill('#username', username);
  if (email) await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([
    page.waitForURL(`${hp.url}/account`, { waitUntil: 'load' }).catch(async (e) => {
      throw new Error(`signup of ${username} did not land on /account (at ${page.url()}): ${await bannerText(page)}\n${e.message}`);
    }),
    page.click('form[action="/signup"] button[type=submit]'),
  ]);
  return { username, password };
}

/** Logs in through the `/login` form; resolves on `/account`. */
export async function logIn(page, hp, username, password) {
  await page.goto(`${hp.url}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([
    page.waitForURL(`${hp.url}/account`, { waitUntil: 'load' }).catch(async (e) => {
      throw new Error(`login of ${username} did not land on /account (at ${page.url()}): ${await bannerText(page)}\n${e.message}`);
    }),
    page.click('form[action="/login"] button[type=submit]'),
  ]);
}

/** Logs out with the header's "Log out" button; resolves on `/login`. */
export async function logOutFromHeader(page, hp) {
  await Promise.all([
    page.waitForURL(`${hp.url}/login`, { waitUntil: 'load' }),
    page.click('.site-header form[action="/logout"] button[type=submit]'),
  ]);
}

/** Clicks `locator` (a form's submit button) and waits until the page it leads to has loaded. */
export async function clickAndWaitForNavigation(page, locator) {
  const committed = page.waitForEvent('framenavigated', { predicate: (frame) => frame === page.mainFrame(), timeout: 10000 });
  await locator.click();
  await committed;
  await page.waitForLoadState('load');
}

/** The text of the page's error/notice banners, for failure messages. */
export async function bannerText(page) {
  try {
    return (await page.locator('.banner, .error, main').first().innerText({ timeout: 1000 })).trim().slice(0, 500);
  } catch {
    return '(no banner)';
  }
}

/** A new context (device) with a freshly signed-up user; returns `{ context, page, username, password }`. */
export async function newUser(browser, hp, prefix = 'user') {
  const context = await newContext(browser);
  const page = await context.newPage();
  const creds = await signUp(page, hp, { username: uniqueName(prefix) });
  return { context, page, ...creds };
}

/** A new context (device) logged in as the administrator `root`. */
export async function newAdmin(browser, hp) {
  const context = await newContext(browser);
  const page = await context.newPage();
  await logIn(page, hp, hp.adminUsername, hp.adminPassword);
  return { context, page, username: hp.adminUsername, password: hp.adminPassword };
}

/**
 * `GET /v1/me` as the browser context sees it, from a page on hallpass's own origin (same
 * origin, so the HttpOnly cookie goes along and the answer is readable). Returns
 * `{ status, body }`; does not disturb `page` (a scratch page of the same context is used).
 */
export async function whoAmI(context, hp) {
  const page = await context.newPage();
  try {
    // Any same-origin document will do; /healthz is not a page with a session check.
    await page.goto(`${hp.url}/healthz`);
    return await page.evaluate(async () => {
      const res = await fetch('/v1/me', { credentials: 'same-origin' });
      let body = null;
      try {
        body = await res.json();
      } catch {}
      return { status: res.status, body };
    });
  } finally {
    await page.close();
  }
}

/** The CSRF token of the page's forms (hidden `csrf_token` field). */
export async function csrfTokenOf(page) {
  return page.locator('input[name=csrf_token]').first().inputValue();
}

/**
 * A full-page screenshot. It is always taken (so a page that cannot be captured fails the test),
 * but written to `e2e/screenshots/NAME.png`, the pictures the docs show, only with
 * `E2E_SCREENSHOTS=1`: a plain run leaves the committed files alone.
 */
export async function screenshot(page, name) {
  const image = await page.screenshot({ fullPage: true, animations: 'disabled', caret: 'hide' });
  if (process.env.E2E_SCREENSHOTS !== '1') return null;
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  writeFileSync(path, image);
  return path;
}

// ---------------------------------------------------------------------------------------------
// Driving the test OpenID provider's pages

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Keeps `context` on this machine: every request to a host other than localhost/127.0.0.1 is
 * aborted (the provider's pages `@import` Google's fonts, and a test must never depend on the
 * network). Returns the list of the refused URLs, which a test may inspect (an open redirect
 * to another host would show up there).
 */
export async function keepOnLoopback(context) {
  const refused = [];
  await context.route(
    (url) => !LOOPBACK_HOSTS.has(url.hostname) && url.protocol !== 'data:' && url.protocol !== 'blob:',
    (route) => {
      refused.push(route.request().url());
      return route.abort('blockedbyclient');
    },
  );
  return refused;
}

/**
 * Runs `trigger` (a click, a key press, a `goto`) and resolves with the URL of the next page the
 * main frame commits to, once it has loaded. Redirects commit nothing, so a chain of them
 * (hallpass → provider → hallpass) ends on the page the browser finally shows.
 */
export async function nextPage(page, trigger, { timeout = 15000 } = {}) {
  const main = page.mainFrame();
  const committed = page.waitForEvent('framenavigated', { predicate: (frame) => frame === main, timeout });
  await trigger();
  await committed;
  await page.waitForLoadState('load');
  return new URL(page.url());
}

/**
 * A social login through the test provider, played like a person: `trigger` starts it (clicks
 * "Continue with …" or a link, presses Enter, or `goto`s an authorize URL). On the provider's
 * development login form, types `login` (which becomes `sub-<login>`, `<login>@example.test`,
 * `preferred_username: <login>`) and any password and signs in; on its consent page, presses
 * Continue. A provider that remembers the browser skips either page, or both. Resolves with
 * `{ url, loginForm, consent }` once the browser has left the provider (the page hallpass sent
 * it to has loaded): `url` is where it landed, the flags say which provider pages it went through.
 */
export async function providerLogIn(page, op, login, trigger, { password = 'any password at all' } = {}) {
  let url = await nextPage(page, trigger);
  const onProvider = () => url.origin === op.origin;
  let loginForm = false;
  let consent = false;
  if (onProvider() && (await page.locator('input[name=login]').count()) > 0) {
    loginForm = true;
    await page.fill('input[name=login]', login);
    await page.fill('input[name=password]', password);
    url = await nextPage(page, () => page.getByRole('button', { name: 'Sign-in' }).click());
  }
  const proceed = page.getByRole('button', { name: 'Continue' });
  if (onProvider() && (await proceed.count()) > 0) {
    consent = true;
    url = await nextPage(page, () => proceed.click());
  }
  if (onProvider()) {
    const text = await page.locator('body').innerText().catch(() => '');
    throw new Error(`still on the provider after its login and consent, at ${page.url()}:\n${text.slice(0, 800)}`);
  }
  return { url, loginForm, consent };
}

// ---------------------------------------------------------------------------------------------
// A test file's fixture

/**
 * Registers `before`/`after` hooks that start hallpass (with `options` for `startHallpass`) and
 * a browser, and returns `{ hp, browser, test }` (filled in once `before` ran). `test(name, fn)`
 * is `it` plus diagnostics: on failure the server log's tail is printed and every open page is
 * screenshotted into `e2e/screenshots/failures/`.
 */
export function useHallpass(options = {}) {
  const fx = { hp: null, browser: null, cleanups: [] };
  before(async () => {
    fx.hp = await startHallpass(options);
    try {
      fx.browser = await launchBrowser();
    } catch (error) {
      await fx.hp.stop();
      throw error;
    }
  });
  after(async () => {
    for (const cleanup of fx.cleanups.reverse()) {
      try {
        await cleanup();
      } catch {}
    }
    await fx.browser?.close();
    await fx.hp?.stop({ keep: !!fx.failed });
  });
  /** Runs `fn` when the file's tests end (static servers, …). */
  fx.onCleanup = (fn) => fx.cleanups.push(fn);
  fx.test = (name, fn, opts = {}) =>
    it(name, { timeout: 90000, ...opts }, async (t) => {
      try {
        await fn(t);
      } catch (error) {
        fx.failed = true;
        await diagnose(fx, name);
        throw error;
      }
    });
  return fx;
}

async function diagnose(fx, name) {
  const slug = name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
  try {
    mkdirSync(FAILURE_DIR, { recursive: true });
    let n = 0;
    for (const context of fx.browser?.contexts() ?? []) {
      for (const page of context.pages()) {
        n += 1;
        const path = join(FAILURE_DIR, `${slug}-${n}.png`);
        await page.screenshot({ path, fullPage: true, timeout: 5000 }).catch(() => {});
        console.error(`# failure screenshot: ${path} (${page.url()})`);
      }
    }
  } catch {}
  if (fx.hp) {
    console.error(`# --- hallpass log tail (${fx.hp.logPath}) ---\n${fx.hp.logTail(60)}\n# --- end of log ---`);
  }
  if (fx.hp?.provider) {
    const tail = fx.hp.provider.log().split('\n').filter((l) => !l.startsWith('oidc-provider WARNING')).slice(-30).join('\n');
    console.error(`# --- test OpenID provider output ---\n${tail}\n# --- end of output ---`);
  }
}
