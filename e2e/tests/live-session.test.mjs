// Live session end: an open page learns at once, without reloading, that its session
// was ended elsewhere (another device, an administrator), through /v1/session/events.

import assert from 'node:assert/strict';
import { describe } from 'node:test';

import { clickAndWaitForNavigation, logIn, newAdmin, newContext, newUser, useHallpass, whoAmI } from '../lib/harness.mjs';

const NOTICE = '[data-testid=session-ended]';

/**
 * Opens `path` in `page` and waits until its event stream is connected (the response headers of
 * GET /v1/session/events arrived with 200). Returns a counter of later navigations of the page.
 */
async function openLive(page, url) {
  const stream = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/session/events', { timeout: 10000 }).catch(() => null);
  await page.goto(url);
  const response = await stream;
  assert.ok(response, `the page ${url} opened GET /v1/session/events (is /static/live.js loaded?)`);
  assert.equal(response.status(), 200, `GET /v1/session/events answered ${response.status()}`);
  assert.match(response.headers()['content-type'] ?? '', /^text\/event-stream/, 'the events endpoint is a text/event-stream');
  assert.equal(await page.locator(NOTICE).isVisible(), false, 'the "session ended" notice is hidden while the session lives');
  const navigations = { count: 0 };
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) navigations.count += 1;
  });
  return navigations;
}

async function expectNotice(page, navigations, what) {
  try {
    await page.waitForSelector(NOTICE, { state: 'visible', timeout: 5000 });
  } catch {
    assert.fail(`${what}: the open page did not show ${NOTICE} within 5 s`);
  }
  assert.equal(navigations.count, 0, `${what}: the notice appeared without the page reloading or navigating`);
  assert.match(await page.locator(NOTICE).innerText(), /logged out/i, `${what}: the notice says the user was logged out`);
}

describe('live session end: an open page is told at once', () => {
  const fx = useHallpass();

  fx.test('device 2 logs device 1 out from the device list; device 1\'s open /account shows the notice', async () => {
    const one = await newUser(fx.browser, fx.hp, 'twodev');
    const twoContext = await newContext(fx.browser);
    const two = await twoContext.newPage();
    await logIn(two, fx.hp, one.username, one.password);
    const oneSession = (await whoAmI(one.context, fx.hp)).body.session.id;

    const navigations = await openLive(one.page, `${fx.hp.url}/account`);
    await two.goto(`${fx.hp.url}/account`);
    const revoke = two.locator(`form[action="/account/sessions/${oneSession}/revoke"] button[type=submit]`);
    assert.equal(await revoke.count(), 1, `device 2 lists device 1's session ${oneSession} with a "Log out" button`);
    assert.match(await revoke.innerText(), /log out/i);
    await clickAndWaitForNavigation(two, revoke);

    await expectNotice(one.page, navigations, 'revoked from the other device');
    assert.equal((await whoAmI(one.context, fx.hp)).status, 401, 'device 1 really is logged out');
    assert.equal((await whoAmI(twoContext, fx.hp)).status, 200, 'device 2 is still logged in');
    await one.context.close();
    await twoContext.close();
  });

  fx.test('"Log out everywhere" on device 2: device 1\'s open page shows the notice, device 2 goes to /login', async () => {
    const one = await newUser(fx.browser, fx.hp, 'everywhere');
    const twoContext = await newContext(fx.browser);
    const two = await twoContext.newPage();
    await logIn(two, fx.hp, one.username, one.password);
    const navigations = await openLive(one.page, `${fx.hp.url}/account`);
    await two.goto(`${fx.hp.url}/account`);
    await Promise.all([two.waitForURL(`${fx.hp.url}/login`), two.getByRole('button', { name: 'Log out everywhere' }).click()]);
    await expectNotice(one.page, navigations, 'log out everywhere');
    assert.equal(await two.locator(NOTICE).count(), 0, 'the device that logged out went to /login, no notice there');
    await one.context.close();
    await twoContext.close();
  });

  fx.test('an admin\'s "Force logout everywhere" on /admin/users/{id}: the user\'s open /demo/board shows the notice', async () => {
    const user = await newUser(fx.browser, fx.hp, 'forced');
    const userId = (await whoAmI(user.context, fx.hp)).body.user.id;
    const navigations = await openLive(user.page, `${fx.hp.url}/demo/board`);

    const admin = await newAdmin(fx.browser, fx.hp);
    admin.page.on('dialog', (d) => d.accept());
    const res = await admin.page.goto(`${fx.hp.url}/admin/users/${userId}`);
    assert.equal(res.status(), 200, `GET /admin/users/${userId} as admin answers ${res.status()}`);
    const force = admin.page.getByRole('button', { name: /force logout everywhere/i });
    assert.equal(await force.count(), 1, 'the admin user page has a "Force logout everywhere" button');
    await clickAndWaitForNavigation(admin.page, force);

    await expectNotice(user.page, navigations, 'admin force logout');
    assert.equal((await whoAmI(user.context, fx.hp)).status, 401, 'the user really is logged out');
    assert.equal((await whoAmI(admin.context, fx.hp)).status, 200, 'the admin is not');
    await user.context.close();
    await admin.context.close();
  });

  fx.test('the page\'s own logout does not flash the notice', async () => {
    const one = await newUser(fx.browser, fx.hp, 'ownlogout');
    const flashes = [];
    await one.page.exposeFunction('e2eNoticeShown', () => flashes.push(Date.now()));
    await openLive(one.page, `${fx.hp.url}/account`);
    await one.page.evaluate((sel) => {
      const notice = document.querySelector(sel);
      new MutationObserver(() => {
        if (!notice.hidden) window.e2eNoticeShown();
      }).observe(notice, { attributes: true });
    }, NOTICE);
    await Promise.all([one.page.waitForURL(`${fx.hp.url}/login`), one.page.click('.site-header form[action="/logout"] button[type=submit]')]);
    assert.deepEqual(flashes, [], 'the notice never became visible during the page\'s own logout');
    assert.equal(await one.page.locator(NOTICE).count(), 0, 'the login page carries no notice');
    await one.context.close();
  });
});
