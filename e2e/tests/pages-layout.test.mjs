// The pages at a desktop and a phone width: no sideways scrolling, every control reachable by
// Tab with a visible focus indicator, and a Content-Security-Policy that forbids inline script.

import assert from 'node:assert/strict';
import { describe } from 'node:test';

import { logIn, newContext, screenshot, signUp, uniqueName, useHallpass } from '../lib/harness.mjs';

const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'mobile', width: 390, height: 844 },
];

/** Parses a CSP header into `{ directive: [sources] }`. */
function parseCsp(header) {
  const out = {};
  for (const part of header.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out[name.toLowerCase()] = sources;
  }
  return out;
}

function assertStrictCsp(header, where) {
  assert.ok(header, `${where}: a Content-Security-Policy header is sent`);
  const csp = parseCsp(header);
  assert.deepEqual(csp['default-src'], ["'none'"], `${where}: default-src 'none' (CSP: ${header})`);
  const script = csp['script-src-elem'] ?? csp['script-src'] ?? csp['default-src'];
  for (const bad of ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", '*', 'data:', 'http:', 'https:', 'blob:']) {
    assert.ok(!script.includes(bad), `${where}: scripts are not allowed from ${bad} (script policy: ${script.join(' ')})`);
  }
  if (csp['script-src-attr']) assert.ok(!csp['script-src-attr'].includes("'unsafe-inline'"), `${where}: no inline event handlers`);
  assert.deepEqual(csp['frame-ancestors'], ["'none'"], `${where}: frame-ancestors 'none'`);
  assert.ok(csp['base-uri'], `${where}: base-uri is restricted`);
  assert.ok(csp['form-action'] && !csp['form-action'].includes('*'), `${where}: form-action is restricted`);
}

/** No horizontal scrolling, and no control sticking out of the viewport's width. */
async function assertNoHorizontalOverflow(page, where, width) {
  const m = await page.evaluate(() => {
    const doc = document.documentElement;
    const sticking = [];
    for (const el of document.querySelectorAll('a[href], button, input, select, textarea, label, h1, h2, p, dd')) {
      const r = el.getBoundingClientRect();
      const s = getComputedStyle(el);
      if (r.width === 0 || r.height === 0 || s.visibility === 'hidden' || el.closest('.visually-hidden, .skip-link')) continue;
      if (r.right > window.innerWidth + 0.5 || r.left < -0.5) sticking.push(`${el.tagName.toLowerCase()}.${el.className} [${Math.round(r.left)}..${Math.round(r.right)}]`);
    }
    return { scrollWidth: doc.scrollWidth, bodyScrollWidth: document.body.scrollWidth, innerWidth: window.innerWidth, sticking };
  });
  assert.equal(m.innerWidth, width, `${where}: the viewport is ${width} px wide`);
  assert.ok(m.scrollWidth <= m.innerWidth, `${where}: no horizontal scroll (scrollWidth ${m.scrollWidth} > innerWidth ${m.innerWidth})`);
  assert.ok(m.bodyScrollWidth <= m.innerWidth, `${where}: body does not overflow (body.scrollWidth ${m.bodyScrollWidth})`);
  assert.deepEqual(m.sticking, [], `${where}: elements reach outside the viewport`);
}

/**
 * Presses Tab from the top of the page until focus wraps around, and for each element reached
 * compares its focused look with its unfocused look. Returns the stops.
 */
async function assertVisibleFocusOnEveryTabStop(page, where) {
  // Start from the top of the document, with nothing focused (undo autofocus).
  // A scratch element at the very top, focusable by script only (tabindex=-1), moves the
  // sequential focus navigation starting point there; the next Tab reaches the first control.
  await page.evaluate(() => {
    const start = document.createElement('span');
    start.id = 'e2e-tab-start';
    start.tabIndex = -1;
    document.body.prepend(start);
    start.focus();
  });

  const stops = [];
  let wrapped = false;
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    const info = await page.evaluate((n) => {
      const el = document.activeElement;
      if (!el || el === document.body || el === document.documentElement) return { body: true };
      const seen = el.getAttribute('data-e2e-stop');
      if (seen !== null) return { repeat: Number(seen) };
      el.setAttribute('data-e2e-stop', String(n));
      const s = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      return {
        index: n,
        label: `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className ? `.${String(el.className).split(' ').join('.')}` : ''} "${(el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 30)}"`,
        focusVisible: el.matches(':focus-visible'),
        style: {
          outline: `${s.outlineStyle}|${s.outlineWidth}|${s.outlineColor}`,
          boxShadow: s.boxShadow,
          border: `${s.borderTopColor}|${s.borderBottomColor}|${s.borderTopWidth}`,
          background: s.backgroundColor,
          color: s.color,
          decoration: `${s.textDecorationLine}|${s.textDecorationColor}`,
          transform: s.transform,
        },
        rect: { x: r.x, y: r.y, w: r.width, h: r.height },
        viewport: { w: window.innerWidth, h: window.innerHeight },
      };
    }, stops.length);
    if (info.body) {
      if (stops.length > 0) wrapped = true;
      continue;
    }
    if (info.repeat !== undefined) {
      wrapped = true;
      break;
    }
    stops.push(info);
  }
  assert.ok(wrapped, `${where}: Tab cycled through the page (did not find the end after 80 presses)`);
  assert.ok(stops.length >= 2, `${where}: at least two Tab stops (got ${stops.length})`);

  // Unfocused looks of the same elements.
  await page.evaluate(() => document.activeElement?.blur?.());
  const unfocused = await page.evaluate(() =>
    [...document.querySelectorAll('[data-e2e-stop]')].map((el) => {
      const s = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      return {
        index: Number(el.getAttribute('data-e2e-stop')),
        // Off screen while unfocused (a skip link): appearing on focus is the indicator.
        hidden: r.bottom + window.scrollY <= 0 || r.right + window.scrollX <= 0,
        style: {
          outline: `${s.outlineStyle}|${s.outlineWidth}|${s.outlineColor}`,
          boxShadow: s.boxShadow,
          border: `${s.borderTopColor}|${s.borderBottomColor}|${s.borderTopWidth}`,
          background: s.backgroundColor,
          color: s.color,
          decoration: `${s.textDecorationLine}|${s.textDecorationColor}`,
          transform: s.transform,
        },
      };
    }),
  );

  const transparent = (c) => /rgba\([^)]*,\s*0\)$/.test(c) || c === 'transparent';
  for (const stop of stops) {
    const offEntry = unfocused.find((u) => u.index === stop.index);
    const off = offEntry.style;
    const on = stop.style;
    const [oStyle, oWidth, oColor] = on.outline.split('|');
    const ring = oStyle !== 'none' && parseFloat(oWidth) > 0 && !transparent(oColor);
    const changed = ['boxShadow', 'border', 'background', 'color', 'decoration'].filter((k) => on[k] !== off[k]);
    const appears = offEntry.hidden;
    assert.ok(ring || changed.length > 0 || appears, `${where}: ${stop.label} has no visible focus style (focused ${JSON.stringify(on)} vs unfocused ${JSON.stringify(off)})`);
    const { rect, viewport } = stop;
    assert.ok(rect.w > 0 && rect.h > 0, `${where}: ${stop.label} is focusable but has no size`);
    assert.ok(rect.x >= -1 && rect.y >= -1 && rect.x + rect.w <= viewport.w + 1 && rect.y + rect.h <= viewport.h + 1, `${where}: focused ${stop.label} is on screen (${JSON.stringify(rect)})`);
  }

  // And the other way round: every visible control is among the Tab stops.
  const unreachable = await page.evaluate(() =>
    [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea')]
      .filter((el) => !el.disabled && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden')
      .filter((el) => !el.hasAttribute('data-e2e-stop'))
      .map((el) => el.outerHTML.slice(0, 120)),
  );
  assert.deepEqual(unreachable, [], `${where}: visible controls that Tab never reaches`);
  await page.evaluate(() => {
    document.querySelectorAll('[data-e2e-stop]').forEach((el) => el.removeAttribute('data-e2e-stop'));
    document.getElementById('e2e-tab-start')?.remove();
  });
  return stops;
}

describe('page layout, keyboard focus and CSP', () => {
  const fx = useHallpass();
  const username = uniqueName('layout');
  let password;

  fx.test('set-up: a user with an email and two devices, so /account lists sessions with a "Log out" button', async () => {
    const context = await newContext(fx.browser);
    const page = await context.newPage();
    ({ password } = await signUp(page, fx.hp, { username, email: `${username}@example.com` }));
    await context.close();
  });

  for (const vp of VIEWPORTS) {
    fx.test(`${vp.name} ${vp.width}×${vp.height}: /login, /signup and /account fit, focus is visible, CSP is strict`, async () => {
      const context = await newContext(fx.browser, { viewport: { width: vp.width, height: vp.height } });
      const page = await context.newPage();
      for (const path of ['/login', '/signup']) {
        const where = `${vp.name} ${path}`;
        const response = await page.goto(`${fx.hp.url}${path}`);
        assert.equal(response.status(), 200, `${where}: 200`);
        assertStrictCsp(response.headers()['content-security-policy'], where);
        assert.equal(response.headers()['x-content-type-options'], 'nosniff', `${where}: X-Content-Type-Options: nosniff`);
        assert.ok(response.headers()['referrer-policy'], `${where}: a Referrer-Policy header`);
        await assertNoHorizontalOverflow(page, where, vp.width);
        await assertVisibleFocusOnEveryTabStop(page, where);
        if (vp.name === 'desktop') await screenshot(page, path.slice(1));
      }

      await logIn(page, fx.hp, username, password);
      const response = await page.goto(`${fx.hp.url}/account`);
      const where = `${vp.name} /account`;
      assert.equal(response.status(), 200);
      assertStrictCsp(response.headers()['content-security-policy'], where);
      assert.equal(response.headers()['x-content-type-options'], 'nosniff', `${where}: X-Content-Type-Options: nosniff`);
      assert.ok((await page.locator('.session').count()) >= 2, `${where}: the device list shows this device and the others`);
      await assertNoHorizontalOverflow(page, where, vp.width);
      const stops = await assertVisibleFocusOnEveryTabStop(page, where);
      assert.ok(stops.some((s) => /Log out/.test(s.label)), `${where}: a "Log out" button is a Tab stop`);
      await page.evaluate(() => window.scrollTo(0, 0));
      await screenshot(page, vp.name === 'desktop' ? 'account' : 'account-mobile');
      await context.close();
    });
  }
});

describe('board and admin console: layout, keyboard focus and CSP', () => {
  const fx = useHallpass();
  let postPath;
  let userPath;

  fx.test('set-up: a member with a post, so the board, a post and the admin pages have content', async () => {
    const context = await newContext(fx.browser);
    const page = await context.newPage();
    await signUp(page, fx.hp, { username: uniqueName('layout') });
    await page.goto(`${fx.hp.url}/demo/board/new`);
    await page.fill('#title', 'A reasonably long title for a post, to see how it wraps on a phone');
    await page.fill('#body', 'Line one of the post.\nLine two, which is a little longer than the first one was.');
    await Promise.all([page.waitForURL(/\/demo\/board\/[0-9a-f-]{36}$/), page.locator('form[data-testid=post-form] button[type=submit]').click()]);
    postPath = new URL(page.url()).pathname;
    const me = await page.evaluate(async () => (await fetch('/v1/me')).json());
    userPath = `/admin/users/${me.user.id}`;
    await context.close();
  });

  for (const vp of VIEWPORTS) {
    fx.test(`${vp.name} ${vp.width}×${vp.height}: board, post, write form and admin pages fit, focus is visible, CSP is strict`, async () => {
      assert.ok(postPath && userPath, 'the set-up made a post and a user');
      const context = await newContext(fx.browser, { viewport: { width: vp.width, height: vp.height } });
      const page = await context.newPage();
      await logIn(page, fx.hp, fx.hp.adminUsername, fx.hp.adminPassword);
      for (const path of ['/demo/board', postPath, '/demo/board/new', '/admin', userPath, '/admin/audit']) {
        const where = `${vp.name} ${path}`;
        const response = await page.goto(`${fx.hp.url}${path}`);
        assert.equal(response.status(), 200, `${where}: 200`);
        assertStrictCsp(response.headers()['content-security-policy'], where);
        await assertNoHorizontalOverflow(page, where, vp.width);
        await assertVisibleFocusOnEveryTabStop(page, where);
      }
      await context.close();
    });
  }
});
