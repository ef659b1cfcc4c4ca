// An attacker's page on another port of the same host (`http://localhost:OTHER`: same site,
// other origin) tries to read and to act on a logged-in victim's session. The victim's
// SameSite=Lax cookie *does* travel with these requests (same site): each test checks that it
// did, so a pass means hallpass's own origin and CSRF-token checks stopped the attack.

import assert from 'node:assert/strict';
import { before, describe } from 'node:test';

import { csrfTokenOf, newContext, newUser, startStatic, strongPassword, uniqueName, useHallpass, waitFor, whoAmI } from '../lib/harness.mjs';

/** An HTML page that posts a form to `action` as soon as it loads. */
function autoPostPage(action, fields, { enctype } = {}) {
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${esc(name)}" value="${esc(value)}">`)
    .join('');
  return `<!doctype html><title>totally harmless</title>
<form method="post" action="${esc(action)}"${enctype ? ` enctype="${esc(enctype)}"` : ''}>${inputs}</form>
<script>document.forms[0].submit()</script>`;
}

describe('a page on another origin cannot read or act on the session', () => {
  const fx = useHallpass();
  const pages = new Map();
  let attacker;

  before(async () => {
    attacker = await startStatic((req, res, url) => pages.get(url.pathname) ?? (url.pathname === '/' ? '<!doctype html><title>attacker</title><p>hi' : undefined));
    fx.onCleanup(() => attacker.stop());
  });

  /**
   * Opens `html` from the attacker's origin in a new tab of the victim's browser, lets it
   * auto-post to hallpass, and returns the response hallpass gave to that post, with the
   * request headers the browser really sent.
   */
  async function attack(context, path, html, target) {
    pages.set(path, html);
    const page = await context.newPage();
    try {
      const responded = page.waitForResponse((r) => r.url() === target && r.request().method() === 'POST', { timeout: 10000 });
      await page.goto(`${attacker.url}${path}`, { waitUntil: 'commit' });
      const response = await responded;
      const sent = await response.request().allHeaders();
      await page.waitForLoadState('load').catch(() => {});
      return { status: response.status(), sent, headers: await response.allHeaders(), body: await response.text().catch(() => '') };
    } finally {
      await page.close();
    }
  }

  /** The victim is still logged in with the very same session. */
  async function assertStillLoggedIn(context, before, what) {
    const now = await whoAmI(context, fx.hp);
    assert.equal(now.status, 200, `${what}: the victim is still logged in (GET /v1/me answered ${now.status})`);
    assert.equal(now.body.session.id, before.body.session.id, `${what}: the victim's session is the same one`);
    const cookie = (await context.cookies(fx.hp.url)).find((c) => c.name === 'hallpass_session');
    assert.ok(cookie?.value, `${what}: the victim's session cookie is still there`);
  }

  /** The attack really carried the victim's cookie (so SameSite was not what stopped it). */
  function assertCookieWentAlong(sent, what, name = 'hallpass_session') {
    assert.ok((sent.cookie ?? '').includes(`${name}=`), `${what}: the browser sent ${name} with the attack (Cookie: ${sent.cookie ?? 'none'}); without it this test proves nothing`);
    assert.notEqual(sent['sec-fetch-site'], 'same-origin', `${what}: the attack is not same-origin`);
  }

  fx.test('(a) the attacker cannot read GET /v1/me with the victim\'s cookie', async (t) => {
    const { context } = await newUser(fx.browser, fx.hp, 'victim');
    const page = await context.newPage();
    await page.goto(`${attacker.url}/`);
    // What really crossed the wire, from Chromium's own network events (CDP): the request
    // headers sent (was the cookie attached?), the status hallpass answered, and why the
    // browser then withheld the answer from the page.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    const wire = new Map();
    const entry = (id) => wire.get(id) ?? wire.set(id, {}).get(id);
    cdp.on('Network.requestWillBeSent', (e) => {
      if (e.request.url.startsWith(`${fx.hp.url}/v1/me`)) entry(e.requestId).url = e.request.url;
    });
    cdp.on('Network.requestWillBeSentExtraInfo', (e) => {
      const cookie = Object.entries(e.headers).find(([k]) => k.toLowerCase() === 'cookie')?.[1] ?? '';
      entry(e.requestId).cookieSent = cookie.includes('hallpass_session=');
      entry(e.requestId).mode = Object.entries(e.headers).find(([k]) => k.toLowerCase() === 'sec-fetch-mode')?.[1];
    });
    cdp.on('Network.responseReceivedExtraInfo', (e) => {
      entry(e.requestId).status = e.statusCode;
      entry(e.requestId).acao = Object.entries(e.headers).find(([k]) => k.toLowerCase() === 'access-control-allow-origin')?.[1] ?? null;
    });
    cdp.on('Network.loadingFailed', (e) => {
      entry(e.requestId).failed = e.errorText;
      if (e.corsErrorStatus) entry(e.requestId).cors = e.corsErrorStatus.corsError;
    });

    const results = await page.evaluate(async (base) => {
      const out = {};
      const read = async (init) => {
        try {
          const res = await fetch(`${base}/v1/me`, init);
          let text = null;
          try {
            text = await res.text();
          } catch (e) {
            text = `unreadable: ${e}`;
          }
          return { type: res.type, status: res.status, text };
        } catch (e) {
          return { error: `${e.name}: ${e.message}` };
        }
      };
      out.cors = await read({ credentials: 'include' });
      out.noCors = await read({ credentials: 'include', mode: 'no-cors' });
      out.xhr = await new Promise((resolve) => {
        const xhr = new XMLHttpRequest();
        xhr.open('GET', `${base}/v1/me`);
        xhr.withCredentials = true;
        xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
        xhr.onerror = () => resolve({ error: 'xhr error event', status: xhr.status, text: xhr.responseText });
        xhr.send();
      });
      return out;
    }, fx.hp.url);
    // Let the last network events arrive (the XHR's failure may trail its error event).
    await waitFor(() => [...wire.values()].filter((w) => w.url && (w.failed || w.status)).length >= 3, { timeout: 3000, message: 'three /v1/me requests on the wire' }).catch(() => {});
    const network = [...wire.values()].filter((w) => w.url);
    t.diagnostic(`attacker fetch results (what the page saw): ${JSON.stringify(results)}`);
    t.diagnostic(`on the wire (CDP): ${JSON.stringify(network)}`);

    assert.ok(network.length >= 2 && network.some((w) => w.cookieSent), `the victim's cookie went along with the attacker's requests (else this proves nothing): ${JSON.stringify(network)}`);
    for (const w of network) {
      assert.ok(w.acao == null || (w.acao !== attacker.origin && w.acao !== '*'), `hallpass granted CORS to the attacker: ${JSON.stringify(w)}`);
    }

    // cors mode: a CORS failure (TypeError) or, at most, a response with no readable body.
    if (results.cors.error) {
      assert.match(results.cors.error, /^TypeError/, 'a CORS failure surfaces as a TypeError');
    } else {
      assert.ok(!/"username"/.test(results.cors.text ?? ''), `the attacker read /v1/me: ${JSON.stringify(results.cors)}`);
    }
    // no-cors mode: an opaque response, status 0, empty body.
    if (!results.noCors.error) {
      assert.equal(results.noCors.type, 'opaque', 'a no-cors response is opaque');
      assert.equal(results.noCors.status, 0);
      assert.equal(results.noCors.text, '');
    }
    assert.ok(!/"username"/.test(results.xhr.text ?? ''), `the attacker read /v1/me by XHR: ${JSON.stringify(results.xhr)}`);
    for (const r of Object.values(results)) {
      assert.ok(!JSON.stringify(r).includes('csrf_token'), 'the CSRF token never reaches the attacker');
    }

    // And the server gives this origin no CORS grant at all (checked outside the browser).
    const direct = await fetch(`${fx.hp.url}/v1/me`, { headers: { origin: attacker.origin } });
    assert.equal(direct.headers.get('access-control-allow-origin'), null, `no Access-Control-Allow-Origin for ${attacker.origin} (got ${direct.headers.get('access-control-allow-origin')})`);
    const preflight = await fetch(`${fx.hp.url}/v1/logout`, {
      method: 'OPTIONS',
      headers: { origin: attacker.origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-csrf-token' },
    });
    const acao = preflight.headers.get('access-control-allow-origin');
    assert.ok(acao !== attacker.origin && acao !== '*', `the preflight from ${attacker.origin} is not granted (ACAO: ${acao})`);
    await context.close();
  });

  fx.test('(b) auto-submitted forms to POST /v1/logout (urlencoded and text/plain "JSON") are refused', async (t) => {
    const { context } = await newUser(fx.browser, fx.hp, 'victim');
    const before = await whoAmI(context, fx.hp);
    assert.equal(before.status, 200);
    const target = `${fx.hp.url}/v1/logout`;

    const urlencoded = await attack(context, '/logout-urlencoded', autoPostPage(target, { scope: 'global' }), target);
    assertCookieWentAlong(urlencoded.sent, 'urlencoded form');
    assert.ok([403, 415].includes(urlencoded.status), `the urlencoded form post answered ${urlencoded.status} (want 403 or 415): ${urlencoded.body.slice(0, 300)}`);
    assert.ok(!urlencoded.headers['clear-site-data'], 'the refused attack does not clear the victim\'s site data');
    await assertStillLoggedIn(context, before, 'after the urlencoded form');

    // text/plain: the body comes out as {"scope":"global","x":"="} – JSON-looking, no preflight.
    const plain = await attack(context, '/logout-plain', autoPostPage(target, { '{"scope":"global","x":"': '"}' }, { enctype: 'text/plain' }), target);
    assertCookieWentAlong(plain.sent, 'text/plain form');
    assert.match(plain.sent['content-type'] ?? '', /^text\/plain/, 'the browser sent text/plain');
    assert.ok([403, 415].includes(plain.status), `the text/plain form post answered ${plain.status} (want 403 or 415): ${plain.body.slice(0, 300)}`);
    await assertStillLoggedIn(context, before, 'after the text/plain form');

    // The same thing with fetch(no-cors): a "simple" request, no preflight, opaque answer.
    const page = await context.newPage();
    await page.goto(`${attacker.url}/`);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === target),
      page.evaluate((url) => fetch(url, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{"scope":"global"}' }).then((r) => r.type), target),
    ]);
    // Playwright does not always report the Cookie header of a fetch() (it does for the
    // navigations above); the status proves it instead: without the cookie hallpass answers 401.
    assert.notEqual(response.status(), 401, 'fetch(no-cors): the victim\'s cookie went along (401 would mean hallpass saw no session)');
    assert.ok([403, 415].includes(response.status()), `fetch(no-cors) POST /v1/logout answered ${response.status()} (want 403 or 415)`);
    await page.close();
    await assertStillLoggedIn(context, before, 'after fetch(no-cors)');
    t.diagnostic(`statuses: urlencoded form ${urlencoded.status}, text/plain form ${plain.status}, fetch(no-cors) ${response.status()}; sec-fetch-site ${urlencoded.sent['sec-fetch-site']}, origin ${urlencoded.sent.origin}`);
    await context.close();
  });

  fx.test('(c) auto-submitted forms to the page\'s POST /logout are refused, with a made-up, no, or even the real CSRF token', async () => {
    const { context, page: victimPage } = await newUser(fx.browser, fx.hp, 'victim');
    const before = await whoAmI(context, fx.hp);
    const target = `${fx.hp.url}/logout`;

    const madeUp = await attack(context, '/logout-fake-token', autoPostPage(target, { scope: 'global', csrf_token: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }), target);
    assertCookieWentAlong(madeUp.sent, 'made-up token');
    assert.equal(madeUp.status, 403, `a made-up csrf_token answered ${madeUp.status} (want 403)`);
    await assertStillLoggedIn(context, before, 'after a made-up token');

    const none = await attack(context, '/logout-no-token', autoPostPage(target, { scope: 'global' }), target);
    assertCookieWentAlong(none.sent, 'no token');
    assert.equal(none.status, 403, `no csrf_token answered ${none.status} (want 403)`);
    await assertStillLoggedIn(context, before, 'after no token');

    // Had the attacker somehow learnt the victim's real token, the origin check alone must still refuse.
    await victimPage.goto(`${fx.hp.url}/account`);
    const real = await csrfTokenOf(victimPage);
    assert.ok(real.length > 10, 'the account page carries a CSRF token');
    const leaked = await attack(context, '/logout-real-token', autoPostPage(target, { scope: 'global', csrf_token: real }), target);
    assertCookieWentAlong(leaked.sent, 'real token');
    assert.equal(leaked.status, 403, `a foreign origin with the real csrf_token answered ${leaked.status} (want 403: the origin half must hold on its own)`);
    await assertStillLoggedIn(context, before, 'after the real token from a foreign origin');

    // Control: the same form from hallpass's own page does log out (so the checks above can fail).
    await victimPage.click('.site-header form[action="/logout"] button[type=submit]');
    await victimPage.waitForURL(`${fx.hp.url}/login`);
    assert.equal((await whoAmI(context, fx.hp)).status, 401, 'control: the genuine logout form works');
    await context.close();
  });

  fx.test('(e) login CSRF: the attacker plants its own login nonce cookie and posts its own credentials – the victim is not logged in as the attacker', async () => {
    // The attacker's own account and a matching (nonce cookie, form token) pair, fetched server-side.
    const attackerName = uniqueName('mallory');
    const attackerPassword = strongPassword();
    const signup = await fetch(`${fx.hp.url}/v1/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: attackerName, password: attackerPassword }),
    });
    assert.equal(signup.status, 201, 'the attacker signs up');
    const loginPage = await fetch(`${fx.hp.url}/login`);
    const nonce = /hallpass_csrf=([^;]+)/.exec(loginPage.headers.get('set-cookie') ?? '')?.[1];
    const token = /name="csrf_token" value="([^"]+)"/.exec(await loginPage.text())?.[1];
    assert.ok(nonce && token, 'the attacker got a nonce cookie and its form token');

    // A victim who is not logged in. The attacker's page (same site) can write cookies for
    // "localhost", which hallpass's port reads as its own: cookie tossing.
    const victim = await newContext(fx.browser);
    const page = await victim.newPage();
    await page.goto(`${attacker.url}/`);
    await page.evaluate((n) => (document.cookie = `hallpass_csrf=${n}; path=/`), nonce);
    await page.close();
    const target = `${fx.hp.url}/login`;
    const result = await attack(victim, '/login-csrf', autoPostPage(target, { username: attackerName, password: attackerPassword, csrf_token: token }), target);
    assertCookieWentAlong(result.sent, 'login CSRF', 'hallpass_csrf');
    assert.equal(result.status, 403, `the cross-origin login post answered ${result.status} (want 403)`);
    const me = await whoAmI(victim, fx.hp);
    assert.equal(me.status, 401, `the victim's browser is not logged in (as ${me.body?.user?.username ?? 'nobody'})`);
    assert.ok(!(await victim.cookies(fx.hp.url)).some((c) => c.name === 'hallpass_session' && c.value), 'no session cookie was set');
    await victim.close();
  });
});
