// The demo board (/demo/board): markup in posts is shown as text, never run; only a
// post's author or an administrator may change it, whatever the browser is made to send.

import assert from 'node:assert/strict';
import { describe } from 'node:test';

import { csrfTokenOf, newAdmin, newUser, screenshot, useHallpass } from '../lib/harness.mjs';

const PAYLOAD = '<script>alert(1)</script><img src=x onerror=alert(2)>';

/** Writes a post through the /demo/board/new form; returns its id and URL. */
async function writePost(page, hp, title, body) {
  const form = await page.goto(`${hp.url}/demo/board/new`);
  assert.equal(form?.status(), 200, `GET /demo/board/new answers 200 for a logged-in user (got ${form?.status()})`);
  await page.fill('#title', title);
  await page.fill('#body', body);
  await Promise.all([
    page.waitForURL((u) => /^\/demo\/board\/[0-9a-f-]{36}$/.test(u.pathname), { waitUntil: 'load' }),
    page.locator('form[data-testid=post-form], form[action="/demo/board/new"]').first().locator('button[type=submit]').click(),
  ]);
  const url = page.url();
  return { id: new URL(url).pathname.split('/').pop(), url };
}

describe('demo board: escaping and authorization', () => {
  const fx = useHallpass();
  const dialogs = [];
  let alice;
  let bob;
  let post;

  fx.test('A writes a post with markup in title and body; it is shown as text and never runs', async () => {
    alice = await newUser(fx.browser, fx.hp, 'alice');
    alice.context.on('page', (p) => p.on('dialog', (d) => (dialogs.push(d.message()), d.dismiss())));
    alice.page.on('dialog', (d) => (dialogs.push(d.message()), d.dismiss()));
    const xImages = [];
    alice.context.on('request', (r) => {
      if (new URL(r.url()).pathname.endsWith('/x')) xImages.push(r.url());
    });

    post = await writePost(alice.page, fx.hp, `Hello ${PAYLOAD}`, `Body start\n${PAYLOAD}\nbody end`);
    const page = alice.page;
    await page.waitForLoadState('load');

    const title = page.locator('[data-testid=post-title]');
    const body = page.locator('[data-testid=post-body]');
    assert.equal(await title.textContent(), `Hello ${PAYLOAD}`, 'the title is shown exactly as typed, as text');
    assert.ok((await body.textContent()).includes(PAYLOAD), 'the body shows the literal markup as text');
    const inside = await page.evaluate(() => ({
      scripts: document.querySelectorAll('[data-testid=post-body] script, [data-testid=post-title] script').length,
      images: document.querySelectorAll('[data-testid=post-body] img, [data-testid=post-title] img').length,
      elementsInBody: document.querySelector('[data-testid=post-body]').children.length,
      inlineScripts: [...document.scripts].filter((s) => !s.src).length,
      docTitle: document.title,
    }));
    assert.equal(inside.scripts, 0, 'no <script> element inside the post');
    assert.equal(inside.images, 0, 'no <img> element inside the post');
    assert.equal(inside.elementsInBody, 0, 'the post body is text only, no elements');
    assert.equal(inside.inlineScripts, 0, 'no inline script on the page at all');
    assert.ok(inside.docTitle.includes('<script>'), `the document title shows the markup as text (${inside.docTitle})`);

    // Even markup that did reach the DOM could not run: the CSP refuses inline script. (The
    // check itself runs through the DevTools protocol, which the CSP does not govern.)
    const injected = await page.evaluate(() => new Promise((resolve) => {
      window.__inlineRan = false;
      const timer = setTimeout(() => resolve({ ran: window.__inlineRan, violation: null }), 3000);
      document.addEventListener('securitypolicyviolation', (e) => {
        clearTimeout(timer);
        resolve({ ran: window.__inlineRan, violation: e.effectiveDirective });
      }, { once: true });
      const script = document.createElement('script');
      script.textContent = 'window.__inlineRan = true';
      document.body.append(script);
    }));
    assert.equal(injected.ran, false, 'an inline <script> added to the page did not run');
    assert.match(String(injected.violation), /^script-src/, `the browser reported a CSP violation (${injected.violation})`);

    // The list shows it as text too.
    await page.goto(`${fx.hp.url}/demo/board`);
    const card = page.locator('[data-testid=posts] li', { hasText: 'Hello <script>' });
    assert.equal(await card.count(), 1, 'the post is listed, its title as text');
    assert.equal(await page.locator('[data-testid=posts] script, [data-testid=posts] img').count(), 0, 'no script or img elements in the list');
    await page.goto(post.url);
    assert.deepEqual(dialogs, [], `no dialog fired (got ${JSON.stringify(dialogs)})`);
    assert.deepEqual(xImages, [], 'the injected <img src=x> was never requested');
  });

  fx.test('B sees no Edit/Delete on A\'s post, and the edit form and delete answer 403 even with B\'s valid CSRF token', async () => {
    assert.ok(post, 'the previous test wrote a post');
    bob = await newUser(fx.browser, fx.hp, 'bob');
    bob.page.on('dialog', (d) => (dialogs.push(d.message()), d.dismiss()));
    const shown = await bob.page.goto(post.url);
    assert.equal(shown.status(), 200, 'B can read the post');
    assert.equal(await bob.page.locator('[data-testid=edit-post]').count(), 0, 'no Edit for B');
    assert.equal(await bob.page.locator('[data-testid=delete-post]').count(), 0, 'no Delete for B');
    assert.equal(await bob.page.getByRole('link', { name: /^edit/i }).count(), 0, 'no Edit link by name either');
    assert.equal(await bob.page.getByRole('button', { name: /^delete/i }).count(), 0, 'no Delete button by name either');

    const edit = await bob.page.goto(`${post.url}/edit`);
    assert.equal(edit.status(), 403, `GET ${post.url}/edit as B answers ${edit.status()} (want 403)`);
    assert.equal(await bob.page.locator('#body').count(), 0, 'the 403 page has no edit form');

    // B's own, valid CSRF token, from B's page, posted same-origin: only authorization can refuse it.
    await bob.page.goto(`${fx.hp.url}/demo/board/new`);
    const token = await csrfTokenOf(bob.page);
    assert.ok(token.length > 10, 'B has a CSRF token');
    const attempts = await bob.page.evaluate(
      async ({ url, token }) => {
        const post = (path, fields) =>
          fetch(path, {
            method: 'POST',
            credentials: 'same-origin',
            redirect: 'manual',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams(fields).toString(),
          }).then((r) => r.status);
        return {
          del: await post(`${url}/delete`, { csrf_token: token }),
          edit: await post(`${url}/edit`, { csrf_token: token, title: 'pwned by B', body: 'pwned by B' }),
        };
      },
      { url: new URL(post.url).pathname, token },
    );
    assert.equal(attempts.del, 403, `POST /delete as B with B's valid token answered ${attempts.del} (want 403)`);
    assert.equal(attempts.edit, 403, `POST /edit as B with B's valid token answered ${attempts.edit} (want 403)`);

    // Control: the same token does work for B's own post (so the 403s above are authorization).
    const own = await writePost(bob.page, fx.hp, 'Bob was here', 'hello');
    const ownDelete = await bob.page.evaluate(
      async ({ path, token }) =>
        (await fetch(`${path}/delete`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf_token=${encodeURIComponent(token)}` })).status,
      { path: new URL(own.url).pathname, token },
    );
    // redirect: 'manual' turns the 303 into an opaque redirect (status 0).
    assert.ok([0, 200, 303].includes(ownDelete), `B deleting B's own post with the same token answered ${ownDelete}`);
    assert.equal((await bob.page.goto(own.url)).status(), 404, 'B\'s own post is gone (control)');

    // A's post is untouched.
    const again = await alice.page.goto(post.url);
    assert.equal(again.status(), 200, 'A\'s post still exists');
    assert.equal(await alice.page.locator('[data-testid=post-title]').textContent(), `Hello ${PAYLOAD}`, 'A\'s post title is unchanged');
    assert.equal(await alice.page.locator('[data-testid=edit-post]').count(), 1, 'A, the author, does see Edit');
    assert.equal(await alice.page.locator('[data-testid=delete-post]').count(), 1, 'A, the author, does see Delete');
  });

  fx.test('a stranger (not logged in) is sent to /login for the write form', async () => {
    const context = await fx.browser.newContext();
    const page = await context.newPage();
    await page.goto(`${fx.hp.url}/demo/board/new`);
    assert.equal(new URL(page.url()).pathname, '/login', 'GET /demo/board/new without a session redirects to /login');
    await page.goto(`${post.url}/edit`);
    assert.equal(new URL(page.url()).pathname, '/login', 'GET /edit without a session redirects to /login');
    await context.close();
  });

  fx.test('the admin (root) can delete A\'s post; screenshot board.png', async () => {
    // A second post by A so the screenshot shows a list, not an empty board.
    await writePost(alice.page, fx.hp, 'Welcome to the board', 'Anyone can read; members can write; authors and admins can edit.');
    const admin = await newAdmin(fx.browser, fx.hp);
    admin.page.on('dialog', (d) => (dialogs.push(d.message()), d.accept()));
    await admin.page.goto(`${fx.hp.url}/demo/board`);
    await screenshot(admin.page, 'board');

    await admin.page.goto(post.url);
    const del = admin.page.locator('[data-testid=delete-post]');
    assert.equal(await del.count(), 1, 'the admin sees Delete on A\'s post');
    assert.equal(await admin.page.locator('[data-testid=edit-post]').count(), 1, 'the admin sees Edit on A\'s post');
    await Promise.all([admin.page.waitForURL(`${fx.hp.url}/demo/board`), del.click()]);
    const gone = await alice.page.goto(post.url);
    assert.equal(gone.status(), 404, `A's post is gone after the admin deleted it (GET answered ${gone.status()})`);
    assert.equal(await admin.page.locator('[data-testid=posts] li', { hasText: 'Hello <script>' }).count(), 0, 'the post is no longer listed');
    assert.deepEqual(dialogs, [], 'no alert() ever fired');
  });
});
