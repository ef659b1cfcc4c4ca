// Social login in a real browser, against a real OpenID provider (npm `oidc-provider`, see
// crates/hallpass-server/tests/oidc-provider/) configured as `corp`: the first login creates the
// account and later ones find it, a password user links and unlinks the provider, `next` never
// leaves hallpass, and cancelling at the provider ends on an error page with no session.
//
// hallpass is http://localhost:PORT and the provider http://127.0.0.1:PORT: two different sites,
// so hallpass's pending-login cookie has to survive a real cross-site round trip.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe } from 'node:test';

import {
  REPO_ROOT,
  keepOnLoopback,
  logOutFromHeader,
  newContext,
  newUser,
  nextPage,
  providerLogIn,
  screenshot,
  startStatic,
  uniqueName,
  useHallpass,
  whoAmI,
} from '../lib/harness.mjs';

const DISPLAY_NAME = 'Corp SSO';

describe('social login with an OpenID provider', () => {
  const fx = useHallpass({ provider: { name: 'corp', displayName: DISPLAY_NAME } });

  /** A fresh browser profile that reaches nothing but this machine. */
  async function device() {
    const context = await newContext(fx.browser);
    const refused = await keepOnLoopback(context);
    const page = await context.newPage();
    return { context, page, refused };
  }

  /** What a context asked of other hosts, less the provider pages' own `@import` of Google's fonts. */
  function offMachine(refused) {
    return refused.filter((u) => !u.startsWith('https://fonts.googleapis.com/'));
  }

  /** Every cookie of the context, whatever its path (`hallpass_refresh` lives on /v1/token). */
  async function hallpassCookies(context) {
    return (await context.cookies()).filter((c) => c.domain === 'localhost' && c.name.startsWith('hallpass_') && c.value);
  }

  async function assertNoCookieReadableByScript(page) {
    const visible = await page.evaluate(() => document.cookie);
    assert.doesNotMatch(visible, /hallpass/, `document.cookie shows no hallpass cookie (got ${JSON.stringify(visible)})`);
  }

  fx.test('"Continue with" by keyboard: the first login creates the account, later ones find it', async () => {
    const { hp } = fx;
    const op = hp.provider;
    const { context, page, refused } = await device();
    await page.goto(`${hp.url}/login`);
    const button = page.getByTestId('provider-corp');
    await button.waitFor();
    assert.equal((await button.innerText()).trim(), `Continue with ${DISPLAY_NAME}`);
    assert.equal(await button.getAttribute('href'), '/v1/oauth/corp/authorize');
    await screenshot(page, 'social-login');

    // Reachable by keyboard: Tab from the password field gets to it.
    await page.focus('#password');
    let reached = false;
    for (let tabs = 0; tabs < 6 && !reached; tabs += 1) {
      await page.keyboard.press('Tab');
      reached = await button.evaluate((el) => el === document.activeElement);
    }
    assert.ok(reached, 'Tab from the password field reaches "Continue with …"');

    const first = await providerLogIn(page, op, 'alice', () => page.keyboard.press('Enter'));
    assert.ok(first.loginForm && first.consent, 'a new browser goes through the provider\'s login and consent');
    assert.equal(first.url.href, `${hp.url}/account`, 'lands on /account');
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    assert.equal(await page.locator('.user-nav__name').innerText(), 'alice', 'the header names the derived username');
    const me = await whoAmI(context, hp);
    assert.equal(me.status, 200, 'logged in');
    assert.equal(me.body.user.username, 'alice', 'the username comes from preferred_username');
    assert.equal(me.body.user.email, 'alice@example.test', 'the email comes from the provider');
    await assertNoCookieReadableByScript(page);
    const cookies = await hallpassCookies(context);
    const session = cookies.find((c) => c.name === 'hallpass_session');
    assert.ok(session?.httpOnly, 'an HttpOnly session cookie');
    assert.ok(!cookies.some((c) => c.name === 'hallpass_oauth'), 'the pending login is spent (its cookie cleared)');
    assert.ok(cookies.every((c) => c.httpOnly), 'every hallpass cookie is HttpOnly');

    // Log out of hallpass and come back: the provider remembers the browser (no form this time),
    // and the same account is found.
    await logOutFromHeader(page, hp);
    const again = await providerLogIn(page, op, 'alice', () => page.getByTestId('provider-corp').click());
    assert.equal(again.url.href, `${hp.url}/account`);
    const second = await whoAmI(context, hp);
    assert.equal(second.body.user.id, me.body.user.id, 'the same account, not a new one');
    assert.equal(second.body.user.username, 'alice', 'no alice-2');
    assert.notEqual(second.body.session.id, me.body.session.id, 'a new session');
    assert.deepEqual(offMachine(refused), [], 'nothing but the provider\'s font import asked for another host');
    await context.close();

    // Another device, through the provider's login form again: still the same account.
    const other = await device();
    await other.page.goto(`${hp.url}/login`);
    const third = await providerLogIn(other.page, op, 'alice', () => other.page.getByTestId('provider-corp').click());
    assert.ok(third.loginForm, 'a new browser sees the provider\'s login form');
    assert.equal(third.url.href, `${hp.url}/account`);
    const onOther = await whoAmI(other.context, hp);
    assert.equal(onOther.body.user.id, me.body.user.id, 'the same account from another device');
    assert.equal(onOther.body.user.username, 'alice');
    await other.context.close();
  });

  fx.test('a password user links the provider from /account, logs in with it, then unlinks it', async () => {
    const { hp } = fx;
    const op = hp.provider;
    const { context, page, username } = await newUser(fx.browser, hp, 'linker');
    const refused = await keepOnLoopback(context);
    const before = await whoAmI(context, hp);

    const link = page.getByTestId('link-corp');
    await link.waitFor();
    assert.equal(await page.getByTestId('unlink-corp').count(), 0, 'nothing is linked yet');
    const corpLogin = uniqueName('corp');
    const linked = await providerLogIn(page, op, corpLogin, () => link.click());
    assert.equal(linked.url.href, `${hp.url}/account`, 'linking comes back to /account');
    const unlink = page.getByTestId('unlink-corp');
    await unlink.waitFor();
    assert.equal(await page.getByTestId('link-corp').count(), 0, 'no Link button once linked');
    const card = await page.getByTestId('linked-accounts').innerText();
    assert.match(card, /Linked/, 'the card says it is linked');
    assert.match(card, new RegExp(`${corpLogin}@example\\.test`), 'the card shows the provider account\'s email');
    const after = await whoAmI(context, hp);
    assert.equal(after.body.user.username, username, 'still the password user');
    assert.equal(after.body.session.id, before.body.session.id, 'linking keeps the session as it was');
    await assertNoCookieReadableByScript(page);

    // From another device, the provider account now logs in to this user.
    const other = await device();
    await other.page.goto(`${hp.url}/login`);
    const via = await providerLogIn(other.page, op, corpLogin, () => other.page.getByTestId('provider-corp').click());
    assert.equal(via.url.href, `${hp.url}/account`);
    const viaMe = await whoAmI(other.context, hp);
    assert.equal(viaMe.body.user.id, before.body.user.id, 'the linked provider account logs in to the password user');

    // Unlink (the password stays as a way in).
    const landed = await nextPage(page, () => unlink.click());
    assert.equal(landed.origin, hp.origin);
    const notice = await page.locator('.banner').first().innerText();
    assert.match(notice, /no longer linked/i, `the page says it is unlinked (got ${JSON.stringify(notice)})`);
    await page.goto(`${hp.url}/account`);
    await page.getByTestId('link-corp').waitFor();
    assert.equal(await page.getByTestId('unlink-corp').count(), 0, 'the Unlink button is gone');
    assert.equal((await whoAmI(context, hp)).status, 200, 'still logged in after unlinking');

    // The provider account no longer reaches this user: logging in with it makes a new account.
    await logOutFromHeader(other.page, hp);
    const unlinked = await providerLogIn(other.page, op, corpLogin, () => other.page.getByTestId('provider-corp').click());
    assert.equal(unlinked.url.href, `${hp.url}/account`);
    const stranger = await whoAmI(other.context, hp);
    assert.notEqual(stranger.body.user.id, before.body.user.id, 'after unlinking, the provider account is someone else');
    assert.deepEqual(offMachine([...refused, ...other.refused]), [], 'nothing but the provider\'s font import asked for another host');
    await other.context.close();
    await context.close();
  });

  fx.test('next= pointing off hallpass still lands on hallpass\'s /account', async () => {
    const { hp } = fx;
    const op = hp.provider;
    const { context, page, refused } = await device();
    const visited = [];
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) visited.push(frame.url());
    });
    for (const evil of ['https://evil.test', '//evil.test', '/\\evil.test', 'https:evil.test']) {
      const authorize = `${hp.url}/v1/oauth/corp/authorize?next=${encodeURIComponent(evil)}`;
      const done = await providerLogIn(page, op, 'mallory', () => page.goto(authorize));
      assert.equal(done.url.href, `${hp.url}/account`, `next=${evil} ends on hallpass's /account`);
      assert.equal((await whoAmI(context, hp)).body.user.username, 'mallory');
    }
    const elsewhere = visited.filter((u) => ![hp.origin, op.origin].includes(new URL(u).origin));
    assert.deepEqual(elsewhere, [], 'the browser only ever showed hallpass and the provider');
    assert.deepEqual(refused.filter((u) => /evil/.test(u)), [], 'no request ever went to evil.test');
    await context.close();
  });

  fx.test('Cancel at the provider: an error page saying the login was cancelled, and no session', async (t) => {
    const { hp } = fx;
    const op = hp.provider;
    const { context, page } = await device();
    await page.goto(`${hp.url}/login`);
    const atProvider = await nextPage(page, () => page.getByTestId('provider-corp').click());
    assert.equal(atProvider.origin, op.origin, 'on the provider');
    await page.locator('input[name=login]').waitFor();
    const cancel = page.getByRole('link', { name: /cancel/i });
    if ((await cancel.count()) === 0) {
      t.skip('the provider\'s development login page offers no cancel link');
      await context.close();
      return;
    }
    const answered = page.waitForResponse((r) => r.url().startsWith(`${hp.url}/v1/oauth/corp/callback`));
    const back = await nextPage(page, () => cancel.click());
    const response = await answered;
    assert.equal(back.origin, hp.origin, 'back on hallpass');
    assert.equal(back.pathname, '/v1/oauth/corp/callback', 'the callback shows the error itself');
    assert.equal(back.searchParams.get('error'), 'access_denied', 'the provider said access_denied');
    assert.equal(response.status(), 400);
    const text = await page.locator('main').innerText();
    assert.match(text, /cancel/i, `the page says the login was cancelled (got ${JSON.stringify(text)})`);
    assert.equal((await whoAmI(context, hp)).status, 401, 'nobody is logged in');
    const left = (await hallpassCookies(context)).map((c) => c.name);
    assert.ok(!left.includes('hallpass_session'), `no session cookie (cookies: ${left.join(', ')})`);
    assert.ok(!left.includes('hallpass_oauth'), `the pending login is spent (cookies: ${left.join(', ')})`);
    await context.close();
  });

  fx.test('A single-page app on another origin signs in through the provider (token mode): no token in any URL', async () => {
    const { hp } = fx;
    const op = hp.provider;
    const spa = await startStatic(join(REPO_ROOT, 'web', 'demo-spa'), { port: hp.spaPort });
    fx.onCleanup(() => spa.stop());
    const { context, page } = await device();
    const seen = [];
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) seen.push(frame.url());
    });
    await page.goto(`${spa.origin}/?hallpass=${encodeURIComponent(hp.url)}`);
    const button = page.getByTestId('social-corp');
    await button.waitFor();
    assert.equal((await button.innerText()).trim(), `Continue with ${DISPLAY_NAME}`);
    const login = uniqueName('spa-social');
    const { url } = await providerLogIn(page, op, login, () => button.click());
    assert.equal(url.origin, spa.origin, 'back on the app');
    await page.getByTestId('signed-in').waitFor();
    assert.equal((await page.getByTestId('whoami').innerText()).trim(), login, 'the app is signed in');
    const [me] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${hp.url}/v1/me`),
      page.getByTestId('call-me').click(),
    ]);
    assert.equal(me.status(), 200, 'the app calls hallpass with its access token');
    for (const visited of seen) {
      assert.doesNotMatch(visited, /eyJ|hp_rt_|hp_st_|access_token|refresh_token/, `no token in ${visited}`);
    }
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    assert.doesNotMatch(stored, /eyJ|hp_rt_/, 'nothing in web storage');
    await context.close();
  });
});
