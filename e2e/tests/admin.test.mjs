// The admin pages (/admin): only administrators get in; an admin finds a user, sees
// their sessions, disables them (their next request is logged out), reads the audit log by kind.

import assert from 'node:assert/strict';
import { describe } from 'node:test';

import { clickAndWaitForNavigation, newAdmin, newContext, newUser, screenshot, useHallpass, whoAmI } from '../lib/harness.mjs';

/** Does the audit text mention this user (by name or id)? */
const mentions = (text, user) => text.includes(user.username) || text.includes(user.id);

describe('admin pages', () => {
  const fx = useHallpass();
  let target;
  let targetId;
  let targetSession;

  fx.test('a non-admin gets 403 on every /admin page; a stranger gets no admin data', async () => {
    const user = await newUser(fx.browser, fx.hp, 'plain');
    const me = await whoAmI(user.context, fx.hp);
    assert.deepEqual(me.body.user.roles, [], 'a plain user has no roles');
    for (const path of ['/admin', `/admin?q=root`, `/admin/users/${me.body.user.id}`, '/admin/audit']) {
      const res = await user.page.goto(`${fx.hp.url}${path}`);
      assert.equal(res.status(), 403, `GET ${path} as a non-admin answered ${res.status()} (want 403${res.status() === 404 ? '' : ''})`);
      assert.ok(!(await user.page.content()).includes('root'), `${path}: the 403 page shows no user list`);
    }
    // Every admin action form (as the admin's page for this user has them), replayed by the
    // plain user with their own valid CSRF token, same-origin: only the role check can refuse.
    const admin = await newAdmin(fx.browser, fx.hp);
    const adminView = await admin.page.goto(`${fx.hp.url}/admin/users/${me.body.user.id}`);
    assert.equal(adminView.status(), 200, `GET /admin/users/{id} as admin answered ${adminView.status()}`);
    const forms = await admin.page.$$eval('main form[method=post], main form[method=POST]', (fs) =>
      fs.map((f) => ({ action: new URL(f.action).pathname, fields: Object.fromEntries([...new FormData(f)].filter(([k]) => k !== 'csrf_token')) })),
    );
    await admin.context.close();
    assert.ok(forms.length >= 3, `the admin's user page has the admin action forms (found ${JSON.stringify(forms)})`);
    await user.page.goto(`${fx.hp.url}/account`);
    const token = await user.page.locator('input[name=csrf_token]').first().inputValue();
    const statuses = await user.page.evaluate(
      async ({ forms, token }) => {
        const out = [];
        for (const { action, fields } of forms) {
          const body = new URLSearchParams({ ...fields, csrf_token: token });
          const res = await fetch(action, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
          out.push({ action, status: res.status });
        }
        return out;
      },
      { forms, token },
    );
    for (const { action, status } of statuses) assert.equal(status, 403, `POST ${action} by a non-admin with their own valid CSRF token answered ${status} (want 403)`);
    const roles = await whoAmI(user.context, fx.hp);
    assert.deepEqual(roles.body?.user?.roles, [], 'the plain user did not make themselves admin');
    assert.equal((await whoAmI(user.context, fx.hp)).status, 200, 'the plain user is unharmed');
    await user.context.close();

    const stranger = await newContext(fx.browser);
    const page = await stranger.newPage();
    const res = await page.goto(`${fx.hp.url}/admin`);
    assert.ok(res.status() === 403 || new URL(page.url()).pathname === '/login', `a stranger on /admin gets 403 or /login (got ${res.status()} at ${page.url()})`);
    await stranger.close();
  });

  fx.test('the admin searches a user, opens them, and sees their sessions; screenshot admin.png', async () => {
    target = await newUser(fx.browser, fx.hp, 'target');
    const me = await whoAmI(target.context, fx.hp);
    targetId = me.body.user.id;
    targetSession = me.body.session.id;
    // A failed login, for the audit filter below.
    const failing = await newContext(fx.browser);
    const fp = await failing.newPage();
    await fp.goto(`${fx.hp.url}/login`);
    await fp.fill('#username', target.username);
    await fp.fill('#password', 'definitely not the password');
    await clickAndWaitForNavigation(fp, fp.getByRole('button', { name: 'Log in' }));
    await failing.close();

    const admin = await newAdmin(fx.browser, fx.hp);
    const res = await admin.page.goto(`${fx.hp.url}/admin`);
    assert.equal(res.status(), 200, `GET /admin as admin answered ${res.status()}`);
    const q = admin.page.locator('input[name=q]');
    assert.equal(await q.count(), 1, '/admin has a search field named q');
    await q.fill(target.username);
    await Promise.all([admin.page.waitForURL((u) => u.searchParams.get('q') === target.username), q.press('Enter')]);
    const link = admin.page.locator(`a[href="/admin/users/${targetId}"]`);
    assert.ok((await link.count()) >= 1, `the search for ${target.username} links to /admin/users/${targetId}`);
    assert.equal(await admin.page.locator('a[href^="/admin/users/"]', { hasText: 'root' }).count(), 0, 'the search result does not list non-matching users (root)');

    await Promise.all([admin.page.waitForURL(`${fx.hp.url}/admin/users/${targetId}`), link.first().click()]);
    const html = await admin.page.content();
    assert.ok(html.includes(target.username), 'the user page names the user');
    assert.ok(html.includes(targetSession), `the user page lists the user's session ${targetSession} (with its revoke form)`);
    for (const name of [/force logout everywhere/i, /disable/i, /delete/i]) {
      assert.ok((await admin.page.getByRole('button', { name }).count()) >= 1, `the user page has a ${name} button`);
    }
    await screenshot(admin.page, 'admin');
    fx.admin = admin;
  });

  fx.test('the admin disables the user: their very next request is logged out', async () => {
    const admin = fx.admin;
    assert.ok(admin && target, 'the previous test ran');
    admin.page.on('dialog', (d) => d.accept());
    assert.equal((await whoAmI(target.context, fx.hp)).status, 200, 'the user is logged in before');
    const disable = admin.page.getByRole('button', { name: /^disable/i });
    await clickAndWaitForNavigation(admin.page, disable.first());
    assert.ok((await admin.page.getByRole('button', { name: /^enable/i }).count()) >= 1 || /disabled/i.test(await admin.page.locator('main').innerText()), 'the user page now shows the user as disabled');

    const next = await target.page.goto(`${fx.hp.url}/account`);
    assert.equal(new URL(target.page.url()).pathname, '/login', `the disabled user's next page load goes to /login (at ${target.page.url()}, status ${next.status()})`);
    assert.equal((await whoAmI(target.context, fx.hp)).status, 401, 'GET /v1/me is 401 for the disabled user');

    // And they cannot log back in.
    await target.page.fill('#username', target.username);
    await target.page.fill('#password', target.password);
    await clickAndWaitForNavigation(target.page, target.page.getByRole('button', { name: 'Log in' }));
    assert.equal(new URL(target.page.url()).pathname, '/login', 'a disabled user cannot log in');
    assert.equal((await whoAmI(target.context, fx.hp)).status, 401);
  });

  fx.test('the admin reads /admin/audit filtered by kind', async () => {
    assert.ok(fx.admin && target, 'the earlier admin tests ran (they set up the admin and the target user)');
    const { page } = fx.admin;
    const res = await page.goto(`${fx.hp.url}/admin/audit`);
    assert.equal(res.status(), 200, `GET /admin/audit answered ${res.status()}`);
    const who = { username: target.username, id: targetId };
    const all = await page.locator('main').innerText();
    assert.ok(mentions(all, who), 'the unfiltered audit log mentions the user');

    // Filter through the page's own filter form when it has one, else by the documented query.
    const kind = page.locator('[name=kind]');
    if ((await kind.count()) > 0) {
      if ((await kind.first().evaluate((el) => el.tagName)) === 'SELECT') await kind.first().selectOption('login_failed');
      else await kind.first().fill('login_failed');
      const form = kind.first().locator('xpath=ancestor::form');
      await Promise.all([page.waitForURL((u) => u.searchParams.get('kind') === 'login_failed'), form.locator('button[type=submit], input[type=submit]').first().click()]);
    } else {
      await page.goto(`${fx.hp.url}/admin/audit?kind=login_failed`);
    }
    const failed = await page.locator('main').innerText();
    assert.ok(mentions(failed, who), 'kind=login_failed lists the user\'s failed login');
    assert.ok(!failed.includes('root'), 'kind=login_failed does not list root (who never failed to log in)');

    for (const [kindName, expectUser] of [
      ['admin_user_updated', true],
      ['signup', true],
      ['password_changed', false],
    ]) {
      await page.goto(`${fx.hp.url}/admin/audit?kind=${kindName}`);
      const text = await page.locator('main').innerText();
      assert.equal(mentions(text, who), expectUser, `kind=${kindName} ${expectUser ? 'lists' : 'does not list'} the user`);
    }
  });
});
