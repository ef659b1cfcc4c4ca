// (d) of the cross-origin suite, for the demo board: an attacker's page on another
// port of the same host auto-submits the board's "write a post" form with the victim's cookie.
// No post may appear.

import assert from 'node:assert/strict';
import { before, describe } from 'node:test';

import { csrfTokenOf, newUser, startStatic, useHallpass, whoAmI } from '../lib/harness.mjs';

function autoPostPage(action, fields) {
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${esc(name)}" value="${esc(value)}">`)
    .join('');
  return `<!doctype html><title>win a prize</title><form method="post" action="${esc(action)}">${inputs}</form><script>document.forms[0].submit()</script>`;
}

/** The number of posts the board reports, read from the board page. */
async function postCount(page, hp) {
  const res = await page.goto(`${hp.url}/demo/board`);
  assert.equal(res.status(), 200, `GET /demo/board answers 200 (got ${res.status()})`);
  return page.locator('[data-testid=posts] > li').count();
}

describe('(d) a page on another origin cannot write to the board as the victim', () => {
  const fx = useHallpass();
  const pages = new Map();
  let attacker;

  before(async () => {
    attacker = await startStatic((req, res, url) => pages.get(url.pathname));
    fx.onCleanup(() => attacker.stop());
  });

  fx.test('auto-submitted POST /demo/board/new from another origin is refused and creates no post', async () => {
    const { context, page } = await newUser(fx.browser, fx.hp, 'victim');
    const me = await whoAmI(context, fx.hp);
    const before = await postCount(page, fx.hp);
    await page.goto(`${fx.hp.url}/demo/board/new`);
    const realToken = await csrfTokenOf(page);
    const target = `${fx.hp.url}/demo/board/new`;

    const cases = {
      'no token': {},
      'made-up token': { csrf_token: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
      "the victim's real token": { csrf_token: realToken },
    };
    for (const [name, extra] of Object.entries(cases)) {
      const path = `/attack-${pages.size}`;
      pages.set(path, autoPostPage(target, { title: `CSRF ${name}`, body: 'posted by an attacker', ...extra }));
      const tab = await context.newPage();
      const responded = tab.waitForResponse((r) => r.url() === target && r.request().method() === 'POST');
      await tab.goto(`${attacker.url}${path}`, { waitUntil: 'commit' });
      const response = await responded;
      const sent = await response.request().allHeaders();
      assert.ok((sent.cookie ?? '').includes('hallpass_session='), `${name}: the victim's cookie went along (else this proves nothing): ${sent.cookie}`);
      assert.equal(response.status(), 403, `${name}: the cross-origin post answered ${response.status()} (want 403)`);
      await tab.close();
    }

    const after = await postCount(page, fx.hp);
    assert.equal(after, before, `the board still has ${before} post(s) (now ${after})`);
    assert.equal(await page.getByText('posted by an attacker').count(), 0, 'no attacker post is listed');
    const still = await whoAmI(context, fx.hp);
    assert.equal(still.status, 200, 'the victim is still logged in');
    assert.equal(still.body.session.id, me.body.session.id, 'with the same session');

    // Control: the real form on hallpass's own page does post (so the count above could change).
    await page.goto(`${fx.hp.url}/demo/board/new`);
    await page.fill('#title', 'A genuine post');
    await page.fill('#body', 'from the victim, on purpose');
    await Promise.all([page.waitForURL(/\/demo\/board\/[0-9a-f-]{36}$/), page.locator('form[data-testid=post-form] button[type=submit]').click()]);
    assert.equal(await postCount(page, fx.hp), before + 1, 'control: the genuine form adds one post');
    await context.close();
  });
});
