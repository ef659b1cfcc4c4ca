// The demo single-page app (web/demo-spa/) on its own origin, signed in through the
// browser SDK (/sdk/hallpass.js): access token in memory only, refresh token in an HttpOnly
// cookie scoped to /v1/token, tabs that refresh at the same moment stay signed in, a logout in
// one tab ends the others, and an origin hallpass does not list cannot sign in at all.
//
// The SPA's controls are found by data-testid first (call-me, refresh-now, refresh-count,
// session-ended), and the login form and logout button by
// their accessible names.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe } from 'node:test';

import { REPO_ROOT, newContext, screenshot, startStatic, strongPassword, uniqueName, useHallpass, waitFor } from '../lib/harness.mjs';

const SPA_DIR = join(REPO_ROOT, 'web', 'demo-spa');

const ui = {
  username: (p) => p.locator('[data-testid=username]').or(p.getByLabel(/user ?name/i)).first(),
  password: (p) => p.locator('[data-testid=password]').or(p.getByLabel(/^password/i)).first(),
  login: (p) => p.locator('[data-testid=login-submit]').or(p.getByRole('button', { name: /^(log ?in|sign ?in)$/i })).first(),
  signedIn: (p) => p.locator('[data-testid=signed-in]'),
  whoami: (p) => p.locator('[data-testid=whoami]'),
  error: (p) => p.locator('[data-testid=error]'),
  logout: (p) => p.locator('[data-testid=logout]').or(p.getByRole('button', { name: /^(log ?out|sign ?out)/i })).first(),
  callMe: (p) => p.locator('[data-testid=call-me]'),
  refreshNow: (p) => p.locator('[data-testid=refresh-now]'),
  refreshCount: (p) => p.locator('[data-testid=refresh-count]'),
  sessionEnded: (p) => p.locator('[data-testid=session-ended]'),
};

const isPath = (url, path) => {
  try {
    return new URL(url).pathname === path;
  } catch {
    return false;
  }
};

/** Everything the SPA's origin keeps where script or a cookie jar could find it. */
async function assertNoTokenAtRest(page, secrets, where) {
  const found = await page.evaluate(async () => {
    const dump = (s) => Object.fromEntries(Array.from({ length: s.length }, (_, i) => [s.key(i), s.getItem(s.key(i))]));
    const idb = [];
    const databases = indexedDB.databases ? await indexedDB.databases() : [];
    for (const { name } of databases) {
      const db = await new Promise((res, rej) => {
        const r = indexedDB.open(name);
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
      for (const store of db.objectStoreNames) {
        const values = await new Promise((res, rej) => {
          const r = db.transaction(store).objectStore(store).getAll();
          r.onsuccess = () => res(r.result);
          r.onerror = () => rej(r.error);
        });
        idb.push({ db: name, store, values });
      }
      db.close();
    }
    const cacheKeys = 'caches' in self ? await caches.keys() : [];
    const globals = [];
    for (const key of Object.getOwnPropertyNames(window)) {
      try {
        const v = window[key];
        if (typeof v === 'string' && /eyJ|hp_rt_|hp_st_/.test(v)) globals.push(key);
      } catch {}
    }
    // The demo exposes its SDK client for tests (window.hallpassDemo.client); no property of it,
    // however deep, may hold a token.
    const inClient = [];
    const walk = (value, path, depth, seen) => {
      if (typeof value === 'string') {
        if (/eyJ[A-Za-z0-9_-]{8,}|hp_rt_|hp_st_/.test(value)) inClient.push(path);
        return;
      }
      if (!value || typeof value !== 'object' || depth > 4 || seen.has(value)) return;
      seen.add(value);
      for (const key of Object.getOwnPropertyNames(value)) {
        let v;
        try {
          v = value[key];
        } catch {
          continue;
        }
        walk(v, `${path}.${key}`, depth + 1, seen);
      }
    };
    walk(window.hallpassDemo, 'hallpassDemo', 0, new WeakSet());
    return { cookie: document.cookie, local: dump(localStorage), session: dump(sessionStorage), idbNames: databases.map((d) => d.name), idb, cacheKeys, globals, inClient };
  });
  const blob = JSON.stringify(found);
  for (const pattern of [/eyJ[A-Za-z0-9_-]{8,}/, /hp_rt_/, /hp_st_/]) {
    assert.ok(!pattern.test(blob), `${where}: ${pattern} found in the SPA origin's storage: ${blob.slice(0, 800)}`);
  }
  for (const secret of secrets) {
    assert.ok(!blob.includes(secret), `${where}: a token seen on the wire is stored at rest on the SPA origin`);
  }
  assert.ok(!/hallpass/i.test(found.cookie), `${where}: document.cookie on the SPA origin shows a hallpass cookie: ${found.cookie}`);
  assert.deepEqual(found.globals, [], `${where}: window properties holding a token`);
  assert.deepEqual(found.inClient, [], `${where}: properties of the SDK client holding a token`);
}

/** Records every /v1/token answer and every access token seen in flight, for one context. */
function watchTokens(context) {
  const seen = { tokenResponses: [], secrets: new Set() };
  context.on('response', async (r) => {
    if (!isPath(r.url(), '/v1/token') || r.request().method() !== 'POST') return;
    const entry = { status: r.status(), url: r.url() };
    seen.tokenResponses.push(entry);
    try {
      const body = await r.json();
      entry.error = body.error;
      if (body.access_token) seen.secrets.add(body.access_token);
      assert.equal(body.refresh_token, undefined, 'with cookie delivery, no refresh_token in the JSON body');
    } catch {}
  });
  context.on('request', (r) => {
    const auth = r.headers().authorization;
    if (auth?.startsWith('Bearer ')) seen.secrets.add(auth.slice(7));
  });
  return seen;
}

/** Clicks call-me and checks that hallpass answered /v1/me for `username` (by Bearer) and the page shows it. */
async function callMe(page, username, where) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => isPath(r.url(), '/v1/me') && r.request().method() === 'GET', { timeout: 10000 }),
    ui.callMe(page).click(),
  ]);
  assert.equal(response.status(), 200, `${where}: call-me got ${response.status()} from /v1/me`);
  const auth = (await response.request().allHeaders()).authorization ?? '';
  assert.match(auth, /^Bearer eyJ/, `${where}: call-me sent the access token as a Bearer header`);
  const body = await response.json();
  assert.equal(body.user.username, username, `${where}: /v1/me is the signed-in user`);
  await page.getByText(username).first().waitFor({ timeout: 5000 });
}

async function refreshCount(page) {
  const text = (await ui.refreshCount(page).textContent()) ?? '';
  const n = Number.parseInt(text.replace(/[^0-9]/g, ''), 10);
  assert.ok(Number.isFinite(n), `refresh-count shows a number (got "${text}")`);
  return n;
}

/** Opens the SPA and waits for its sign-in form; fails with the SPA's own error if it shows one. */
async function openSpa(page, url) {
  await page.goto(url);
  const form = ui.username(page);
  await waitFor(async () => (await form.isVisible()) || (await ui.error(page).isVisible()), { timeout: 10000, message: `the SPA at ${url} to show its sign-in form` });
  if (!(await form.isVisible())) {
    assert.fail(`the SPA did not get to its sign-in form; it says: ${(await ui.error(page).innerText()).trim()} (is /sdk/hallpass.js served?)`);
  }
}

/** Waits until the SPA is signed in after load (restore via the refresh cookie). */
async function waitSignedIn(page, username, where) {
  await waitFor(async () => (await ui.signedIn(page).isVisible()) && (await ui.whoami(page).textContent())?.trim() === username, {
    timeout: 10000,
    message: `${where}: the SPA to show ${username} as signed in ([data-testid=signed-in] visible, [data-testid=whoami] = ${username})`,
  });
}

describe('demo SPA on a second origin, through the browser SDK', () => {
  let spa;
  let foreign;
  const fx = useHallpass();
  const username = uniqueName('spa');
  const password = strongPassword();

  before(async () => {
    assert.ok(existsSync(join(SPA_DIR, 'index.html')), `${SPA_DIR}/index.html exists (the demo SPA)`);
    spa = await startStatic(SPA_DIR, { port: fx.hp.spaPort });
    foreign = await startStatic(SPA_DIR); // a port hallpass does not list
    fx.onCleanup(() => spa.stop());
    fx.onCleanup(() => foreign.stop());
    const res = await fetch(`${fx.hp.url}/v1/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    assert.equal(res.status, 201, 'the SPA user signs up');
  });

  const spaUrl = (origin) => `${origin}/?hallpass=${encodeURIComponent(fx.hp.url)}`;

  fx.test('log in, call-me, refresh-now, reload, two tabs refreshing together, logout ends the other tab; no token at rest', async () => {
    assert.equal(spa.origin, fx.hp.spaOrigin, 'the SPA is served on the listed origin');
    const context = await newContext(fx.browser);
    const seen = watchTokens(context);
    const one = await context.newPage();
    await openSpa(one, spaUrl(spa.origin));
    await ui.username(one).fill(username);
    await ui.password(one).fill(password);
    const [login] = await Promise.all([one.waitForResponse((r) => isPath(r.url(), '/v1/token')), ui.login(one).click()]);
    assert.equal(login.status(), 200, `the SPA's login (POST /v1/token) answered ${login.status()}`);
    assert.equal((await login.allHeaders())['access-control-allow-origin'], spa.origin, 'hallpass granted CORS to the listed SPA origin');
    const refreshCookie = (await context.cookies(fx.hp.url + '/v1/token')).find((c) => c.name === 'hallpass_refresh');
    assert.ok(refreshCookie, 'the refresh token arrived as the hallpass_refresh cookie');
    assert.equal(refreshCookie.httpOnly, true, 'the refresh cookie is HttpOnly');
    assert.equal(refreshCookie.path, '/v1/token', 'the refresh cookie is scoped to /v1/token');
    seen.secrets.add(refreshCookie.value);
    await waitSignedIn(one, username, 'after login');
    await callMe(one, username, 'after login');
    await assertNoTokenAtRest(one, seen.secrets, 'after login');
    await screenshot(one, 'spa');

    const before = await refreshCount(one);
    const [refreshed] = await Promise.all([one.waitForResponse((r) => isPath(r.url(), '/v1/token')), ui.refreshNow(one).click()]);
    assert.equal(refreshed.status(), 200, 'refresh-now: POST /v1/token (refresh through the cookie) answered 200');
    await waitFor(async () => (await refreshCount(one)) === before + 1, { message: `refresh-count to go from ${before} to ${before + 1}` });
    await callMe(one, username, 'after refresh-now');
    await assertNoTokenAtRest(one, seen.secrets, 'after refresh-now');

    await one.reload();
    await waitSignedIn(one, username, 'after reload');
    await callMe(one, username, 'after reload');
    await assertNoTokenAtRest(one, seen.secrets, 'after reload');

    // A second tab of the same browser, then both refreshing at the same moment, several times.
    const two = await context.newPage();
    await two.goto(spaUrl(spa.origin));
    await waitSignedIn(two, username, 'second tab');
    await callMe(two, username, 'second tab');
    const raceStart = seen.tokenResponses.length;
    for (let round = 1; round <= 5; round++) {
      const [c1, c2] = [await refreshCount(one), await refreshCount(two)];
      await Promise.all([ui.refreshNow(one).click(), ui.refreshNow(two).click()]);
      await waitFor(async () => (await refreshCount(one)) > c1 && (await refreshCount(two)) > c2, { timeout: 10000, message: `round ${round}: both tabs' refresh-count to go up` });
      assert.equal(await ui.sessionEnded(one).isVisible(), false, `round ${round}: tab 1 still signed in`);
      assert.equal(await ui.sessionEnded(two).isVisible(), false, `round ${round}: tab 2 still signed in`);
    }
    const raced = seen.tokenResponses.slice(raceStart);
    assert.ok(raced.length >= 1, 'the racing refreshes reached /v1/token');
    assert.deepEqual(raced.filter((r) => r.status !== 200), [], 'no /v1/token refresh failed while the tabs raced');
    await callMe(one, username, 'tab 1 after the race');
    await callMe(two, username, 'tab 2 after the race');
    await assertNoTokenAtRest(one, seen.secrets, 'after the race (tab 1)');
    await assertNoTokenAtRest(two, seen.secrets, 'after the race (tab 2)');

    // Logging out in one tab ends the other.
    await ui.logout(one).click();
    try {
      await ui.sessionEnded(two).waitFor({ state: 'visible', timeout: 5000 });
    } catch {
      assert.fail('tab 2 did not show [data-testid=session-ended] within 5 s of logging out in tab 1');
    }
    await two.reload();
    await waitFor(async () => (await ui.login(two).isVisible()) || (await ui.sessionEnded(two).isVisible()), { timeout: 10000, message: 'tab 2 to be signed out after reload' });
    assert.equal(await two.getByText(username).count(), 0, 'after reload, tab 2 is not signed in (the refresh cookie is dead)');
    const left = (await context.cookies(fx.hp.url + '/v1/token')).find((c) => c.name === 'hallpass_refresh' && c.value);
    assert.ok(!left, 'the refresh cookie is cleared by logout');
    await assertNoTokenAtRest(one, seen.secrets, 'after logout (tab 1)');
    await assertNoTokenAtRest(two, seen.secrets, 'after logout (tab 2)');
    assert.ok(seen.secrets.size >= 2, 'tokens were seen in flight (so the at-rest checks had something to look for)');
    await context.close();
  });

  fx.test('without Web Locks (the BroadcastChannel fallback), two tabs refreshing at the same moment stay signed in', async () => {
    const context = await newContext(fx.browser);
    // As in a browser without the Web Locks API: the SDK falls back to its BroadcastChannel protocol.
    await context.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined, configurable: true });
    });
    const seen = watchTokens(context);
    const one = await context.newPage();
    await openSpa(one, spaUrl(spa.origin));
    assert.equal(await one.evaluate(() => navigator.locks), undefined, 'the page has no Web Locks');
    await ui.username(one).fill(username);
    await ui.password(one).fill(password);
    await Promise.all([one.waitForResponse((r) => isPath(r.url(), '/v1/token')), ui.login(one).click()]);
    await waitSignedIn(one, username, 'fallback: after login');
    const two = await context.newPage();
    await two.goto(spaUrl(spa.origin));
    await waitSignedIn(two, username, 'fallback: second tab');
    const raceStart = seen.tokenResponses.length;
    for (let round = 1; round <= 5; round++) {
      const [c1, c2] = [await refreshCount(one), await refreshCount(two)];
      await Promise.all([ui.refreshNow(one).click(), ui.refreshNow(two).click()]);
      await waitFor(async () => (await refreshCount(one)) > c1 && (await refreshCount(two)) > c2, { timeout: 10000, message: `fallback round ${round}: both tabs' refresh-count to go up` });
      assert.equal(await ui.sessionEnded(one).isVisible(), false, `fallback round ${round}: tab 1 still signed in`);
      assert.equal(await ui.sessionEnded(two).isVisible(), false, `fallback round ${round}: tab 2 still signed in`);
    }
    assert.deepEqual(seen.tokenResponses.slice(raceStart).filter((r) => r.status !== 200), [], 'no refresh failed while the tabs raced');
    await callMe(one, username, 'fallback: tab 1 after the race');
    await callMe(two, username, 'fallback: tab 2 after the race');
    await assertNoTokenAtRest(one, seen.secrets, 'fallback: after the race');
    await context.close();
  });

  fx.test('from an origin hallpass does not list, the SPA cannot sign in (CORS)', async () => {
    const context = await newContext(fx.browser);
    const page = await context.newPage();
    const outcomes = [];
    page.on('requestfailed', (r) => isPath(r.url(), '/v1/token') && outcomes.push({ failed: r.failure()?.errorText }));
    page.on('response', async (r) => {
      if (isPath(r.url(), '/v1/token')) outcomes.push({ status: r.status(), method: r.request().method(), acao: (await r.allHeaders())['access-control-allow-origin'] ?? null });
    });
    // The SDK itself loads from anywhere (Access-Control-Allow-Origin: *); signing in must not work.
    await openSpa(page, spaUrl(foreign.origin));
    await ui.username(page).fill(username);
    await ui.password(page).fill(password);
    await ui.login(page).click();
    await waitFor(() => outcomes.some((o) => o.failed || o.status), { timeout: 10000, message: 'the foreign origin\'s login attempt to end' });
    for (const o of outcomes) {
      assert.ok(o.acao == null || (o.acao !== foreign.origin && o.acao !== '*'), `hallpass granted CORS to the unlisted origin ${foreign.origin}: ${JSON.stringify(o)}`);
    }
    assert.ok(!outcomes.some((o) => o.method === 'POST' && o.status === 200 && o.acao === foreign.origin), 'no readable token answer');
    assert.ok(!(await context.cookies(fx.hp.url + '/v1/token')).some((c) => c.name === 'hallpass_refresh' && c.value), 'no refresh cookie was set for the unlisted origin');
    try {
      await ui.error(page).waitFor({ state: 'visible', timeout: 10000 });
    } catch {
      assert.fail('the SPA on an unlisted origin showed no error ([data-testid=error]) after the failed sign-in');
    }
    assert.equal(await ui.signedIn(page).isVisible(), false, 'the SPA does not show a signed-in view');
    assert.equal(await page.getByText(username, { exact: true }).count(), 0, 'the SPA does not show the user as signed in');
    await context.close();
  });
});
