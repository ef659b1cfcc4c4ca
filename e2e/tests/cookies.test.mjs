// The session lives in an HttpOnly cookie: script on the page can neither read it nor find a
// token or session id anywhere in web storage.

import assert from 'node:assert/strict';
import { describe } from 'node:test';

import { newUser, useHallpass, whoAmI } from '../lib/harness.mjs';

/** Everything script on `page` can see: document.cookie and both web storages. */
async function scriptVisibleState(page) {
  return page.evaluate(() => {
    const dump = (storage) => {
      const out = {};
      for (let i = 0; i < storage.length; i++) {
        const key = storage.key(i);
        out[key] = storage.getItem(key);
      }
      return out;
    };
    return { cookie: document.cookie, local: dump(localStorage), session: dump(sessionStorage) };
  });
}

describe('cookies and client-side storage', () => {
  const fx = useHallpass();

  fx.test('after login, script sees no hallpass cookie and no token in web storage', async () => {
    const { context, page } = await newUser(fx.browser, fx.hp, 'cookie');
    const me = await whoAmI(context, fx.hp);
    assert.equal(me.status, 200, 'the user is logged in');
    const cookies = await context.cookies(fx.hp.url);
    const session = cookies.find((c) => c.name === 'hallpass_session');
    assert.ok(session?.value, `a hallpass_session cookie is set (cookies: ${cookies.map((c) => c.name).join(', ')})`);

    for (const path of ['/account', '/login', '/signup', '/healthz']) {
      await page.goto(`${fx.hp.url}${path}`);
      const seen = await scriptVisibleState(page);
      assert.ok(!seen.cookie.includes('hallpass_'), `${path}: document.cookie shows no hallpass cookie (got ${JSON.stringify(seen.cookie)})`);
      for (const c of cookies) {
        assert.ok(!seen.cookie.includes(c.value), `${path}: document.cookie does not contain the value of ${c.name}`);
      }
      const stored = JSON.stringify([seen.local, seen.session]);
      assert.equal(stored, '[{},{}]', `${path}: localStorage and sessionStorage are empty (got ${stored})`);
      for (const secret of [session.value, me.body.session.id]) {
        assert.ok(!stored.includes(secret), `${path}: no session token or session id in web storage`);
      }
      // The page's own HTML carries no session token either (a CSRF token is fine, the cookie is not).
      assert.ok(!(await page.content()).includes(session.value), `${path}: the session token is not in the page's HTML`);
    }
    await context.close();
  });

  fx.test('the session cookie is HttpOnly, SameSite=Lax, Path=/, host-only, and the value is an opaque hp_st_ token', async () => {
    const { context } = await newUser(fx.browser, fx.hp, 'flags');
    const cookies = await context.cookies(fx.hp.url);
    const session = cookies.find((c) => c.name === 'hallpass_session');
    assert.ok(session, 'a hallpass_session cookie is set');
    assert.equal(session.httpOnly, true, 'HttpOnly');
    assert.equal(session.sameSite, 'Lax', 'SameSite=Lax');
    assert.equal(session.path, '/', 'Path=/');
    assert.equal(session.domain, 'localhost', 'host-only for the public URL host (no Domain attribute widening it)');
    assert.equal(session.secure, false, 'not Secure under http:// (Secure + __Host- only under https)');
    assert.match(session.value, /^hp_st_[A-Za-z0-9_-]{20,}$/, 'the value is an opaque, prefixed session token');
    assert.ok(session.expires > Date.now() / 1000, 'the cookie has a future expiry');

    // Every other cookie hallpass set (the login-CSRF nonce) is HttpOnly too.
    for (const c of cookies.filter((c) => c.name.startsWith('hallpass'))) {
      assert.equal(c.httpOnly, true, `${c.name} is HttpOnly`);
      assert.equal(c.sameSite, 'Lax', `${c.name} is SameSite=Lax`);
    }
    await context.close();
  });

  fx.test('the Set-Cookie header of the login response itself carries the flags', async () => {
    const { context, page, username, password } = await newUser(fx.browser, fx.hp, 'setcookie');
    await page.click('.site-header form[action="/logout"] button[type=submit]');
    await page.waitForURL(`${fx.hp.url}/login`);
    await page.fill('#username', username);
    await page.fill('#password', password);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${fx.hp.url}/login` && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Log in' }).click(),
    ]);
    const setCookies = (await response.headersArray()).filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value);
    const session = setCookies.find((v) => v.startsWith('hallpass_session='));
    assert.ok(session, `POST /login sets hallpass_session (Set-Cookie: ${JSON.stringify(setCookies)})`);
    const attrs = session.split(';').slice(1).map((a) => a.trim().toLowerCase());
    assert.ok(attrs.includes('httponly'), `HttpOnly in ${session}`);
    assert.ok(attrs.includes('samesite=lax'), `SameSite=Lax in ${session}`);
    assert.ok(attrs.includes('path=/'), `Path=/ in ${session}`);
    assert.ok(!attrs.some((a) => a.startsWith('domain=')), `no Domain attribute in ${session}`);
    await page.waitForURL(`${fx.hp.url}/account`);
    await context.close();
  });
});
